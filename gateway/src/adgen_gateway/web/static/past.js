// Past videos: the user's videos newest first, ten at a time with "Show older", each one opened,
// played, downloaded or retried from the list.

import { videoPath } from "./api.js";
import { $, STATUS_NAMES, busy, el, session, usd } from "./page.js";
import { showVideo } from "./progress.js";
import { playable, setMedia } from "./renditions.js";

const ASPECT_NAMES = { ASPECT_RATIO_16_9: "16:9", ASPECT_RATIO_9_16: "9:16", ASPECT_RATIO_1_1: "1:1" };
// What a video that a retry starts again says of itself (a failed one says its error).
const STOPPED = { failed: "Failed.", cancelled: "Cancelled.",
  expired: "Expired: it waited at its review gate past its time. Retry to open the gate again." };
let pastToken = null;

// Each past video says what it is: its poster, length, shape, cost, status, version (an edit of a
// finished one makes a new one) and, once retried, its run. A finished one plays here and downloads; a failed, cancelled or expired
// one says why and offers Retry. The list carries the same renditions and links as one video's read.
function pastFacts(video, primary) {
  const spec = video.spec || {};
  const shape = primary ? primary.aspect_ratio : ASPECT_NAMES[(video.request || {}).aspect_ratio] || "";
  return [
    spec.duration_s ? `${spec.duration_s} s` : "length not planned yet",
    shape,
    usd((video.cost && video.cost.total_usd) || 0),
    `version ${video.version || 1}`,
    video.run > 1 ? `run ${video.run}` : "",
  ].filter(Boolean).join(" · ");
}

function pastItem(video) {
  const { primary } = playable(video);
  const prompt = (video.request && video.request.prompt) || video.id;
  const open = el("button", { type: "button", className: "link" }, prompt);
  open.addEventListener("click", () => showVideo(video.id));
  const when = el("time", { dateTime: video.created_at, textContent: new Date(video.created_at).toLocaleString() });
  const badge = el("span", { className: `badge ${video.status}`, textContent: video.status });
  const media = el("div", { className: "past-media" });
  const body = el("div", { className: "past-body" }, open,
    el("p", { className: "past-facts" }, badge, " ", pastFacts(video, primary)), when);
  const item = el("li", { className: "past-item" }, media, body);
  item.dataset.id = video.id;
  if (primary) {
    const poster = el("img", { className: "poster", src: primary.poster_url || "", alt: `Poster of “${prompt}”`, loading: "lazy" });
    const play = el("button", { type: "button", className: "quiet", textContent: "Play" });
    play.setAttribute("aria-label", `Play “${prompt}”`);
    play.addEventListener("click", () => {
      const player = el("video", { controls: true, playsInline: true, preload: "auto", className: "past-player" });
      setMedia(player, primary);
      media.replaceChildren(player);
      player.play().catch(() => {}); // a browser may want a second click; the controls are there
    });
    media.append(poster);
    const download = el("a", { href: primary.download_url, download: "", textContent: `Download MP4 (${primary.aspect_ratio})` });
    body.append(el("div", { className: "actions" }, play, download));
  } else {
    media.append(el("span", { className: "poster none", textContent: STATUS_NAMES[video.progress && video.progress.status] || video.status }));
  }
  if (Object.hasOwn(STOPPED, video.status)) {
    const reason = video.status === "failed" ? `Failed: ${video.error || "no reason given"}` : STOPPED[video.status];
    const retry = el("button", { type: "button", textContent: "Retry" });
    retry.setAttribute("aria-label", `Retry “${prompt}”`);
    const note = el("p", { className: "failure", textContent: reason });
    retry.addEventListener("click", () =>
      busy(retry, async () => {
        try {
          await session.api.post(videoPath(video.id, "/retry"));
          showVideo(video.id);
          loadPast(true);
        } catch (error) {
          note.textContent = `Could not retry: ${error.message}`;
        }
      }),
    );
    body.append(note, el("div", { className: "actions" }, retry));
  }
  return item;
}

export async function loadPast(fresh) {
  if (fresh) pastToken = null;
  const query = new URLSearchParams({ page_size: "10" });
  if (pastToken) query.set("page_token", pastToken);
  try {
    const { videos, next_page_token: next } = await session.api.get(`/v1/videos?${query}`);
    const items = videos.map(pastItem);
    if (fresh) $("past").replaceChildren(...items);
    else $("past").append(...items);
    pastToken = next || null;
    $("past-more").hidden = !pastToken;
    $("past-empty").hidden = $("past").children.length > 0;
    $("past-error").textContent = "";
  } catch (error) {
    $("past-error").textContent = `Past videos could not be listed: ${error.message}`;
  }
}

$("past-more").addEventListener("click", () => loadPast(false));
