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

// What "Edit words" changes: the words on screen, so a new version makes nothing but its final cut again.
const EDITABLE = ["headline", "subline"];
const FIELD_LABELS = { headline: "Headline", subline: "Subline" };
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
  const n = index + 1;
  const item = el("li", { className: "card" });
  item.dataset.beat = String(index);
  item.append(el("h4", { textContent: `Beat ${n} · ${beat.start_s}–${beat.start_s + beat.duration_s} s` }));
  for (const name of EDITABLE) {
    const id = `edit-${name}-${index}`;
    const field = el("input", { type: "text", id, value: beat[name] || "", autocomplete: "off" });
    const error = el("p", { id: `${id}-error`, className: "error" });
    error.setAttribute("role", "alert");
    field.setAttribute("aria-describedby", error.id);
    item.append(el("label", { htmlFor: id, textContent: `${FIELD_LABELS[name]} of beat ${n}` }), field, error);
  }
  return item;
}

// Only what changed is sent: a field left as it was cannot be refused, and says nothing new.
function changedWords(beats) {
  const edits = [];
  beats.forEach((beat, index) => {
    const edit = { index };
    for (const name of EDITABLE) {
      const value = $(`edit-${name}-${index}`).value.trim();
      if (value !== (beat[name] || "")) edit[name] = value;
    }
    if (Object.keys(edit).length > 1) edits.push(edit);
  });
  return edits;
}

// The gateway names a refused field by its place in the edit sent ("beats.0.headline"), not by its
// beat; null when the field is not one of the inputs.
function inputOfFault(field, sent) {
  const match = /^beats\.(\d+)\.(\w+)$/.exec(field);
  const edit = match && sent[Number(match[1])];
  return edit && EDITABLE.includes(match[2]) ? `edit-${match[2]}-${edit.index}` : null;
}

// Each refused field's message goes by its input; the rest (a 409's or 429's detail, a fault of no
// input) under the panel.
function showFaults(error, sent) {
  const loose = [];
  for (const { field, message } of error.errors || []) {
    const id = inputOfFault(field, sent);
    if (!id) {
      loose.push(`${field}: ${message}`);
      continue;
    }
    $(`${id}-error`).textContent = message;
    $(id).setAttribute("aria-invalid", "true");
  }
  const placed = (error.errors || []).length > loose.length;
  $("edit-error").textContent = placed ? loose.join("; ") : [error.message, ...loose].join(" — ");
}

async function makeVersion() {
  const video = shown.video;
  if (!video) return;
  clearErrors($("edit"));
  const sent = changedWords(video.spec.beats);
  if (!sent.length) {
    $("edit-error").textContent = "Nothing differs from this version yet: change a headline or subline first.";
    return;
  }
  try {
    await session.api.patch(videoPath(video.id, "/plan"), { plan_revision: video.plan_revision, beats: sent });
  } catch (error) {
    showFaults(error, sent);
    return;
  }
  onStarted(video.id);
}

$("make-version").addEventListener("click", () => busy($("make-version"), makeVersion));
