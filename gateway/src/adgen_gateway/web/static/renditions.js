// A video's renditions as the page plays them: the ones with a link, the primary one first, how
// one goes on a <video>, and the result's player and download links showing one version's.

import { $, el } from "./page.js";

// The primary rendition (undefined when none has a link yet) and the others, in the video's order.
export function playable(video) {
  const renditions = (video.renditions || []).filter((r) => r.download_url);
  const primary = renditions.find((r) => r.primary) || renditions[0];
  return { primary, others: renditions.filter((r) => r !== primary) };
}

// A rendition on a <video>: its link, poster and captions. The links are the store's (another
// origin), so the element asks with CORS: a captions track from elsewhere loads only then.
export function setMedia(player, rendition) {
  player.crossOrigin = "anonymous";
  player.poster = rendition.poster_url || "";
  player.querySelectorAll("track").forEach((track) => track.remove());
  if (rendition.captions_url) {
    // Loaded but hidden: the text is burned into the picture already; the viewer's CC button shows it.
    const track = el("track", { kind: "captions", src: rendition.captions_url, srclang: "en", label: "Captions" });
    player.append(track);
    track.track.mode = "hidden";
  }
  player.src = rendition.download_url;
}

// The result's player plays the primary rendition; its link and every other shape's download.
export function showRenditions({ primary, others }) {
  setMedia($("player"), primary);
  $("download").href = primary.download_url;
  $("download").textContent = `Download MP4 (${primary.aspect_ratio})`;
  $("other-renditions").replaceChildren(
    ...others.map((r) => el("li", {}, el("a", { href: r.download_url, download: "", textContent: `Download ${r.aspect_ratio}` }))),
  );
}
