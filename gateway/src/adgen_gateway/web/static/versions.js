// A finished video's versions: "Edit words", which makes the next version from changed headlines
// and sublines (its images, clips and voice stay as they are, so nothing is paid for again), and
// the switcher between the versions made.
//
// A version plays from pre-signed links: `/download?version=N` is a redirect that needs the API
// key, which neither a <video> nor the page's fetch (connect-src 'self') can follow, so the page
// plays the links `GET /versions` signs for each version (or the video's own, for the latest). A
// version without working links (none published, or they expired) is listed but cannot be chosen.

import { videoPath } from "./api.js";
import { $, busy, clearErrors, el, session } from "./page.js";
import { playable, showRenditions } from "./renditions.js";
import { changedWords, showWordFaults, wordInputs } from "./words.js";

// What "Edit words" changes: the words on screen, so a new version makes nothing but its final cut again.
const WORDS = { prefix: "edit", fields: ["headline", "subline"] };
// Per video id, per version: the renditions shown, as playable() made them.
const links = new Map();
// The completed video shown, as read; null when none is.
const shown = { video: null };
// What follows an accepted edit (progress.js sets it: watching the new version to its end).
let onStarted = () => {};

export function whenVersionStarted(listener) {
  onStarted = listener;
}

export function showVersions(video) {
  shown.video = video;
  remember(video);
  paintEdit(video);
  loadVersions(video);
}

export function hideVersions() {
  shown.video = null;
  $("edit").hidden = true;
  $("edit-beats").replaceChildren();
  $("edit-error").textContent = "";
  $("versions").hidden = true;
  $("version").replaceChildren();
  $("versions-error").textContent = "";
}

function remember(video) {
  keep(video.id, video.version, playable(video));
}

function keep(id, version, made) {
  if (!made.primary) return;
  if (!links.has(id)) links.set(id, new Map());
  links.get(id).set(version, made);
}

// A version's links while they still work; undefined when this tab never had them or they expired.
function linksOf(id, version) {
  const made = links.get(id) && links.get(id).get(version);
  return made && !(Date.parse(made.primary.expires_at) <= Date.now()) ? made : undefined;
}

// ---- the switcher ----------------------------------------------------------------------------

async function loadVersions(video) {
  let versions;
  try {
    ({ versions } = await session.api.get(videoPath(video.id, "/versions")));
  } catch (error) {
    if (shown.video === video) $("versions-error").textContent = `The versions could not be listed: ${error.message}`;
    return;
  }
  if (shown.video !== video) return;
  for (const { version, renditions } of versions) {
    if (!linksOf(video.id, version)) keep(video.id, version, playable({ renditions }));
  }
  const unplayable = versions.filter(({ version }) => !linksOf(video.id, version));
  $("version").replaceChildren(
    ...versions.map(({ version }) => {
      const missing = unplayable.some((v) => v.version === version);
      return el("option", {
        value: String(version),
        textContent: `Version ${version}${missing ? " (not playable here)" : ""}`,
        disabled: missing,
        selected: version === video.version,
      });
    }),
  );
  $("versions-hint").textContent = unplayable.length
    ? "A version marked not playable has no working links right now; open the video again to sign new ones."
    : "";
  $("versions").hidden = versions.length < 2;
}

$("version").addEventListener("change", () => {
  const made = shown.video && linksOf(shown.video.id, Number($("version").value));
  if (made) showRenditions(made);
});

// ---- edit words ------------------------------------------------------------------------------

function paintEdit(video) {
  const beats = (video.spec && video.spec.beats) || [];
  $("edit-summary").textContent = `Starting from the words of version ${video.version}.`;
  $("edit-beats").replaceChildren(...beats.map(wordsCard));
  $("make-version").textContent = `Make version ${video.version + 1}`;
  $("edit-error").textContent = "";
  $("edit").hidden = beats.length === 0;
}

function wordsCard(beat, index) {
  const item = el("li", { className: "card" });
  item.dataset.beat = String(index);
  item.append(
    el("h4", { textContent: `Beat ${index + 1} · ${beat.start_s}–${beat.start_s + beat.duration_s} s` }),
    ...wordInputs(WORDS, beat, index),
  );
  return item;
}

async function makeVersion() {
  const video = shown.video;
  if (!video) return;
  clearErrors($("edit"));
  const sent = changedWords(WORDS, video.spec.beats);
  if (!sent.length) {
    $("edit-error").textContent = "Nothing differs from this version yet: change a headline or subline first.";
    return;
  }
  try {
    await session.api.patch(videoPath(video.id, "/plan"), { plan_revision: video.plan_revision, beats: sent });
  } catch (error) {
    showWordFaults(WORDS, error, sent, $("edit-error"));
    return;
  }
  onStarted(video.id);
}

$("make-version").addEventListener("click", () => busy($("make-version"), makeVersion));
