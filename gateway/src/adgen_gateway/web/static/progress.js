// Watching one video: the phase steps, the bar, status, cost and time left, the storyboard images
// as they are drawn (and drawn again at a review gate), the chunks as they are rendered, the review
// gate while the video waits at it (review.js), a failure and its reason, Retry and Cancel, and the
// finished video in the player, with its versions and the words to edit for the next (versions.js).

import { videoPath } from "./api.js";
import { $, STATUS_NAMES, busy, duration, el, session, usd } from "./page.js";
import { playable, showRenditions } from "./renditions.js";
import { closeGate, followGate, showFrames, whenRedrawn } from "./review.js";
import { hideVersions, showVersions, whenVersionStarted } from "./versions.js";
import { follow, isTerminal } from "./watch.js";

const PHASES = ["PHASE_PLAN", "PHASE_STORYBOARD", "PHASE_CHUNKS", "PHASE_REFINE", "PHASE_EXPORT"];
const PHASE_NAMES = { PHASE_PLAN: "planning", PHASE_STORYBOARD: "storyboard", PHASE_CHUNKS: "animation",
  PHASE_REFINE: "finishing", PHASE_EXPORT: "export" };

const micros = (value) => Number(value || 0) / 1e6;
const watching = { id: null, follower: null, chunks: new Set(), framesShown: 0, framesWanted: 0, loading: false, again: false, shownAt: 0, shownPercent: 0 };
// The statuses a retry starts again from: a failure, a cancellation, a review gate left past its time.
const RETRYABLE = ["VIDEO_STATUS_FAILED", "VIDEO_STATUS_CANCELLED", "VIDEO_STATUS_EXPIRED"];
const STOPPED_TEXT = { VIDEO_STATUS_CANCELLED: "This video was cancelled.",
  VIDEO_STATUS_EXPIRED: "This video waited at its review gate past its time; retry to open the gate again." };
// What else follows a watched video's end (app.js sets it: the past videos list).
let onFinished = () => {};

export function whenFinished(listener) {
  onFinished = listener;
}

// Progress never moves back. The stream replays the video's history from its start, each event
// with the progress as it was then, while the page has already shown the current state: an older
// snapshot must not move the bar back. Older is an earlier time, or a lower percent: services
// stamp their events' times themselves, so two events can arrive in the opposite order of their
// times, but the gateway's percent never decreases over a video's history (a retry keeps what was
// done). True, and `p` becomes the state shown, unless it is older than what is shown.
function advanceShown(p) {
  const at = p.updated_at ? Date.parse(p.updated_at) : NaN;
  const percent = Number(p.percent || 0);
  if (at < watching.shownAt || percent < watching.shownPercent) return false;
  if (!Number.isNaN(at)) watching.shownAt = at;
  watching.shownPercent = percent;
  return true;
}

function renderProgress(progress, kind, event) {
  const p = progress || {};
  if (kind === "chunk_ready" && event && event.chunk_ready) watching.chunks.add(Number(event.chunk_ready.chunk_index || 0));
  if (!advanceShown(p)) return;
  const percent = Number(p.percent || 0);
  $("bar").value = percent;
  $("percent").textContent = `${Math.floor(percent)}%`;
  const phaseAt = PHASES.indexOf(p.phase);
  const finished = p.status === "VIDEO_STATUS_COMPLETED";
  for (const item of $("phases").children) {
    const at = PHASES.indexOf(item.dataset.phase);
    item.classList.toggle("done", finished || at < phaseAt);
    item.classList.toggle("current", !finished && at === phaseAt);
    if (!finished && at === phaseAt) item.setAttribute("aria-current", "step");
    else item.removeAttribute("aria-current");
  }
  const status = STATUS_NAMES[p.status] || "Queued";
  $("status").textContent = `${status} · ${Math.floor(percent)}%${p.message ? ` · ${p.message}` : ""}`;
  $("cost").textContent = usd(micros(p.cost_micros));
  $("eta").textContent = p.eta_s === undefined || p.eta_s === null ? "—" : p.eta_s > 0 ? duration(p.eta_s) : "done";

  renderChunks(Number(p.chunks_total || 0), Number(p.chunks_done || 0));
  watching.framesWanted = Math.max(watching.framesWanted, Number(p.frames_done || 0));
  if (kind === "frame_ready" || watching.framesWanted > watching.framesShown) loadFrames();
  followGate(watching.id, p);

  const retryable = RETRYABLE.includes(p.status);
  $("failure").hidden = !retryable;
  if (p.status === "VIDEO_STATUS_FAILED") {
    const phase = PHASE_NAMES[p.failed_phase] || "an unknown phase";
    $("failure-text").textContent = `Failed during ${phase}: ${p.error || "no reason given"}`;
  } else if (retryable) {
    $("failure-text").textContent = STOPPED_TEXT[p.status];
  }
  $("retry").hidden = !retryable;
  $("cancel").hidden = isTerminal(p);
}
// The grid shows which chunks are done when the stream names them; polling only knows how many.
function renderChunks(total, done) {
  const grid = $("chunks");
  while (grid.children.length < total) grid.append(el("li", { textContent: String(grid.children.length + 1) }));
  let unnamed = Math.max(0, done - watching.chunks.size);
  for (const [index, cell] of [...grid.children].entries()) {
    let isDone = watching.chunks.has(index);
    if (!isDone && unnamed > 0) {
      isDone = true;
      unnamed -= 1;
    }
    cell.classList.toggle("done", isDone);
  }
  grid.setAttribute("aria-label", `Chunks rendered: ${done} of ${total}`);
}

// One load at a time; asked again meanwhile (an image was drawn again), it loads once more after.
async function loadFrames() {
  if (!watching.id) return;
  if (watching.loading) {
    watching.again = true;
    return;
  }
  watching.loading = true;
  watching.again = false;
  const id = watching.id;
  try {
    const { frames } = await session.api.get(videoPath(id, "/frames"));
    if (id !== watching.id) return;
    const list = $("frames");
    for (const frame of frames) {
      let item = list.querySelector(`[data-beat="${frame.beat_index}"]`);
      if (!item) {
        item = el("li", { className: "pending", textContent: `Beat ${frame.beat_index + 1}` });
        item.dataset.beat = frame.beat_index;
        list.append(item);
      }
      // Each take once: the links are signed anew on every read, the picture is the same.
      if (frame.status === "done" && frame.url && item.dataset.take !== String(frame.take)) {
        item.classList.remove("pending");
        item.dataset.take = String(frame.take);
        item.replaceChildren(el("img", { src: frame.url, alt: `Storyboard of beat ${frame.beat_index + 1}` }));
      }
    }
    watching.framesShown = frames.filter((f) => f.status === "done").length;
    showFrames(frames);
  } catch {
    // Thumbnails are a nicety; the next update tries again.
  } finally {
    watching.loading = false;
  }
  if (id !== watching.id) return;
  if (watching.again) loadFrames();
  else if (watching.framesWanted > watching.framesShown) setTimeout(loadFrames, 1000);
}
whenRedrawn(loadFrames);

function setMode(mode) {
  $("transport").dataset.mode = mode;
  $("transport").textContent = mode === "sse" ? "live stream" : "checking every 2 s";
}

// A completed video's JSON carries pre-signed links to each rendition, the primary one first.
function showResult(video) {
  const made = playable(video);
  if (!made.primary) {
    $("failure").hidden = false;
    $("failure-text").textContent = "The video is done but has no download link yet; open it again in a moment.";
    return;
  }
  showRenditions(made);
  showVersions(video);
  $("result").hidden = false;
}

function resetWatch(id) {
  if (watching.follower) watching.follower.stop();
  Object.assign(watching, {
    id,
    follower: null,
    chunks: new Set(),
    framesShown: 0,
    framesWanted: 0,
    loading: false,
    again: false,
    shownAt: 0,
    shownPercent: 0,
  });
  $("frames").replaceChildren();
  $("chunks").replaceChildren();
  closeGate();
  hideVersions();
  $("result").hidden = true;
  $("player").removeAttribute("src");
  $("player").removeAttribute("poster");
  $("player").querySelectorAll("track").forEach((track) => track.remove());
  $("failure").hidden = true;
  setMode("");
  $("transport").textContent = "—";
}

export async function showVideo(id) {
  resetWatch(id);
  $("watch").hidden = false;
  let video;
  try {
    video = await session.api.get(videoPath(id));
  } catch (error) {
    $("status").textContent = `This video cannot be shown: ${error.message}`;
    return;
  }
  $("watch-prompt").textContent = video.request && video.request.prompt;
  renderProgress(video.progress, null, null);
  $("watch-title").scrollIntoView({ block: "start" });
  if (video.status === "completed") return showResult(video);
  if (isTerminal(video.progress)) return;
  watching.follower = follow(session.api, id, {
    progress: (progress, kind, event) => id === watching.id && renderProgress(progress, kind, event),
    mode: (mode) => id === watching.id && setMode(mode),
    finished: (finished) => {
      if (id !== watching.id) return;
      onFinished();
      if (finished.status === "completed") showResult(finished);
    },
    problem: (error) => {
      $("status").textContent = `Stopped following this video: ${error.message}`;
    },
  });
}

// An accepted edit of the words starts the next version: the page follows it from the answer on,
// as the video now reads (the new version, being made), to its end.
whenVersionStarted((id) => {
  showVideo(id);
  $("watch-title").focus();
});

$("cancel").addEventListener("click", () =>
  busy($("cancel"), async () => {
    try {
      await session.api.post(videoPath(watching.id, "/cancel"));
    } catch (error) {
      $("status").textContent = `Could not cancel: ${error.message}`;
    }
  }),
);

$("retry").addEventListener("click", () =>
  busy($("retry"), async () => {
    const id = watching.id;
    try {
      await session.api.post(videoPath(id, "/retry"));
      showVideo(id);
    } catch (error) {
      $("failure-text").textContent = `Could not retry: ${error.message}`;
    }
  }),
);
