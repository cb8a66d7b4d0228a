// Following one video live: Server-Sent Events through EventSource (authenticated by a short-lived
// stream token, since EventSource cannot send headers), and polling GET /v1/videos/{id} every
// POLL_MS when the stream is unavailable or fails. Either way the caller gets the same progress.

import { videoPath } from "./api.js";
// Every kind the stream sends (a finished video's one event named after its status included) and
// the statuses that end a video, as the server defines them.
import { EVENT_KINDS, TERMINAL_STATUSES } from "./limits.js";

export const POLL_MS = 2000;

export const isTerminal = (progress) => TERMINAL_STATUSES.includes(progress && progress.status);

// handlers: progress(progress, kind, event) for every update, mode("sse" | "polling"),
// finished(video) once with the video's JSON, problem(error) when following stops for good.
export function follow(api, id, handlers) {
  let stopped = false;
  let source = null;
  let timer = null;
  const settling = { now: false, again: false };

  const stop = () => {
    stopped = true;
    if (source) source.close();
    clearTimeout(timer);
  };

  // A terminal event is confirmed by a status read, which also brings the final video JSON. The
  // stream replays the ends of earlier runs and versions (a retried video, a completed one making
  // its next version), and after such an end its events may go on carrying that end's progress: a
  // read that finds the video running keeps following the stream to the current end. One read at a
  // time, again once more when another terminal event came meanwhile; a stream that ended while the
  // video runs again (it was retried since) hands over to polling.
  const settle = async () => {
    if (settling.now) {
      settling.again = true;
      return;
    }
    settling.now = true;
    try {
      do {
        settling.again = false;
        const video = await api.get(videoPath(id));
        if (stopped) return;
        if (isTerminal(video.progress)) {
          stop();
          handlers.progress(video.progress, null, null);
          handlers.finished(video);
          return;
        }
      } while (settling.again);
      if (!source) poll();
    } catch (error) {
      if (!stopped) poll();
    } finally {
      settling.now = false;
    }
  };

  const poll = () => {
    if (stopped) return;
    if (source) {
      source.close();
      source = null;
    }
    handlers.mode("polling");
    const tick = async () => {
      if (stopped) return;
      try {
        const video = await api.get(videoPath(id));
        if (stopped) return;
        handlers.progress(video.progress, null, null);
        if (isTerminal(video.progress)) {
          stop();
          handlers.finished(video);
          return;
        }
      } catch (error) {
        if (error.status === 401 || error.status === 404) {
          stop();
          handlers.problem(error);
          return;
        }
      }
      timer = setTimeout(tick, POLL_MS);
    };
    tick();
  };

  const stream = async () => {
    if (typeof EventSource === "undefined") return poll();
    let token;
    try {
      token = (await api.post(videoPath(id, "/stream-token"))).token;
    } catch {
      return poll();
    }
    if (stopped) return;
    source = new EventSource(videoPath(id, `/events?token=${encodeURIComponent(token)}`));
    handlers.mode("sse");
    const onEvent = (message) => {
      if (stopped) return;
      const data = JSON.parse(message.data);
      handlers.progress(data.progress, message.type, data.event);
      if (isTerminal(data.progress)) settle();
    };
    for (const kind of EVENT_KINDS) source.addEventListener(kind, onEvent);
    source.onmessage = onEvent;
    // EventSource would retry on its own, but a refused or broken stream means polling is the way;
    // a stream that ends while its end is being confirmed leaves the hand-over to that read.
    source.onerror = () => {
      if (stopped || !source) return;
      source.close();
      source = null;
      if (!settling.now) poll();
    };
  };

  stream();
  return { stop };
}
