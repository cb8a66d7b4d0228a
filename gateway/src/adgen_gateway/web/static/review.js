// Review gates: the "Review before paying" picker, and the watched video while it waits at its gate.
// The gate shows one card per beat (its words, to edit and save; at the storyboard gate also its
// image, with a prompt to draw it again), what was spent, the quote of the rest and until when the
// gate waits, and the approval that lets the video go on. The cards follow the storyboard as
// progress.js loads it, so a redrawn image replaces its card's when its frame_ready arrives;
// approving hands back to the normal progress, which the stream (or polling) then carries to the
// finished video.

import { videoPath } from "./api.js";
import { REVIEW_STAGES } from "./limits.js";
import { $, busy, clearErrors, el, session, showError, usd } from "./page.js";
import { changedWords, showWordFaults, showWords, wordInputs } from "./words.js";

const STAGE_LABELS = { none: "No, render straight through", plan: "After the plan", storyboard: "After the storyboard" };
$("review").replaceChildren(
  ...REVIEW_STAGES.map((stage) => el("option", { value: stage, textContent: STAGE_LABELS[stage] || stage })),
);

// The request's review field: where the video stops ("none" renders straight through).
export const reviewField = () => ({ review: $("review").value });

// The gate shown: the video's id (null when none is), its stage, what the progress said of the
// spending when it was read, the plan's beats and revision as last read or saved, the latest
// storyboard of the watched video, and how to load that storyboard again (progress.js owns the loading).
const gate = { id: null, stage: null, read: "", beats: [], revision: null, frames: [], reloadFrames: () => {} };

// The words a gate lets the owner change: at the storyboard gate the voice lines are spoken already,
// so only the words on screen are offered.
const wordsAt = (stage) => ({
  prefix: "gate",
  fields: stage === "storyboard" ? ["headline", "subline"] : ["headline", "subline", "voiceover"],
});

export function whenRedrawn(reload) {
  gate.reloadFrames = reload;
}

// The storyboard as progress.js last read it; the cards show it whenever they exist.
export function showFrames(frames) {
  gate.frames = frames;
  paint();
}

// Called with every progress shown: opens the gate when the video waits at it, and closes it
// otherwise. What is ready and spent goes on changing at the gate (the voice may still speak, an
// image is drawn again), and so does the quote: the gate is read again when the progress's counts
// or cost change, whether they came by the stream or by polling.
export function followGate(id, progress) {
  if (progress.status !== "VIDEO_STATUS_AWAITING_REVIEW") return closeGate();
  const read = [progress.frames_done, progress.lines_done, progress.cost_micros].join("/");
  if (gate.id === id && gate.read === read) return;
  gate.read = read;
  loadGate(id);
}

export function closeGate() {
  gate.id = null;
  gate.stage = null;
  gate.read = "";
  gate.beats = [];
  gate.revision = null;
  gate.frames = [];
  $("gate").hidden = true;
  $("board").replaceChildren();
  $("gate-lines").replaceChildren();
  $("gate-words-error").textContent = "";
  $("approve-error").textContent = "";
}

async function loadGate(id) {
  gate.id = id;
  let video;
  try {
    video = await session.api.get(videoPath(id));
  } catch (error) {
    if (gate.id === id) $("approve-error").textContent = `The review could not be shown: ${error.message}`;
    return;
  }
  if (gate.id !== id) return;
  if (!video.review) return closeGate(); // approved or expired meanwhile: the progress says which
  renderGate(video);
}

function renderGate(video) {
  const { review } = video;
  const beats = (video.spec && video.spec.beats) || [];
  // The cards are made once per gate: words or a prompt being edited are not wiped by a refresh.
  const fresh = gate.stage !== review.stage || $("board").children.length !== beats.length;
  gate.stage = review.stage;
  gate.beats = beats;
  gate.revision = video.plan_revision;
  const { frames, beats: total, voice_lines: lines, voice_lines_total: linesTotal } = review.ready;
  const voice = linesTotal ? ` ${lines} of ${linesTotal} voice lines are spoken.` : "";
  $("gate-summary").textContent =
    review.stage === "storyboard"
      ? `Stopped after the storyboard: ${frames} of ${total} images are drawn.${voice} Draw any again, then approve to render the clips.`
      : `Stopped after the plan: ${total} beats are written and nothing is drawn yet.${voice} Approve to draw and render them.`;
  $("gate-spent").textContent = usd(review.spent_usd);
  $("gate-quote").textContent = usd(review.quote_usd);
  $("gate-expires").replaceChildren(
    review.expires_at
      ? el("time", { dateTime: review.expires_at, textContent: new Date(review.expires_at).toLocaleString() })
      : "—",
  );
  $("gate-lines").replaceChildren(
    ...review.quote.map((line) =>
      el("li", { textContent: `${line.phase}: ${line.units} × ${line.model || line.provider} · ${usd(line.usd)}` }),
    ),
  );
  if (fresh) $("board").replaceChildren(...beats.map((beat, index) => card(beat, index, review.stage)));
  $("gate").hidden = false;
  paint();
}

function card(beat, index, stage) {
  const n = index + 1;
  const item = el("li", { className: "card" });
  item.dataset.beat = String(index);
  item.append(el("h4", { textContent: `Beat ${n} · ${beat.start_s}–${beat.start_s + beat.duration_s} s` }));
  if (stage === "storyboard") {
    item.append(el("div", { className: "card-image", textContent: "Drawing…" }), el("p", { className: "take hint" }));
  }
  item.append(...wordInputs(wordsAt(stage), beat, index));
  if (stage === "storyboard" && beat.voiceover) {
    item.append(el("p", { className: "line", textContent: `Voiceover: “${beat.voiceover}”` }));
  }
  if (stage !== "storyboard") {
    item.append(el("p", { className: "hint", textContent: `Image: ${beat.prompt}` }));
    return item;
  }
  const field = el("textarea", { id: `board-prompt-${index}`, rows: 3, value: beat.prompt || "" });
  field.dataset.original = beat.prompt || "";
  const error = el("p", { id: `board-error-${index}`, className: "error" });
  error.dataset.errorFor = "prompt";
  error.setAttribute("role", "alert");
  field.setAttribute("aria-describedby", error.id);
  const redraw = el("button", { type: "button", className: "quiet redraw", textContent: "Draw again" });
  redraw.setAttribute("aria-label", `Draw again: beat ${n}`);
  redraw.addEventListener("click", () => busy(redraw, () => drawAgain(item, index, field)));
  item.append(
    el("label", { htmlFor: field.id, textContent: `Image prompt of beat ${n}` }),
    field,
    error,
    el("div", { className: "actions" }, redraw),
  );
  return item;
}

// The prompt goes along only when edited: an unedited one keeps the plan's, with a new seed.
async function drawAgain(item, index, field) {
  clearErrors(item);
  const prompt = field.value.trim();
  const edited = prompt !== field.dataset.original;
  try {
    await session.api.post(videoPath(gate.id, `/frames/${index}/regenerate`), edited ? { prompt } : undefined);
  } catch (error) {
    showError(error, item, $(`board-error-${index}`));
    return;
  }
  field.dataset.original = prompt;
  gate.reloadFrames();
}

// Each card shows its beat's latest take; an image being drawn again keeps the old one meanwhile,
// and its card cannot be drawn again until it is done (the gateway would refuse).
function paint() {
  if (gate.stage !== "storyboard") return;
  for (const frame of gate.frames) {
    const item = $("board").querySelector(`[data-beat="${frame.beat_index}"]`);
    if (!item) continue;
    const drawn = frame.status === "done" && Boolean(frame.url);
    const picture = item.querySelector(".card-image");
    item.classList.toggle("drawing", !drawn);
    item.querySelector(".take").textContent = drawn ? `Take ${frame.take + 1}` : "Drawing…";
    item.querySelector(".redraw").disabled = !drawn;
    if (drawn && item.dataset.take !== String(frame.take)) {
      item.dataset.take = String(frame.take);
      const alt = `Storyboard of beat ${frame.beat_index + 1}, take ${frame.take + 1}`;
      picture.replaceChildren(el("img", { src: frame.url, alt }));
    }
  }
}

// The changed words go to the plan on its revision as read; the answer is the plan saved and quoted
// again, which the cards and the quote then show. Another edit that came first (409) is read back,
// so the next save starts from it.
async function saveWords() {
  const id = gate.id;
  const form = wordsAt(gate.stage);
  clearErrors($("board"));
  $("gate-words-error").textContent = "";
  const sent = changedWords(form, gate.beats);
  if (!sent.length) {
    $("gate-words-error").textContent = "Nothing differs from the plan yet: change a beat's words first.";
    return;
  }
  let video;
  try {
    video = await session.api.patch(videoPath(id, "/plan"), { plan_revision: gate.revision, beats: sent });
  } catch (error) {
    showWordFaults(form, error, sent, $("gate-words-error"));
    if (error.status === 409 && gate.id === id) loadGate(id);
    return;
  }
  if (gate.id !== id || !video.review) return;
  renderGate(video);
  showWords(form, gate.beats);
}

$("save-words").addEventListener("click", () => busy($("save-words"), saveWords));

$("approve").addEventListener("click", () =>
  busy($("approve"), async () => {
    $("approve-error").textContent = "";
    try {
      await session.api.post(videoPath(gate.id, "/approve"));
    } catch (error) {
      $("approve-error").textContent = `Could not approve: ${error.message}`;
      return;
    }
    closeGate(); // the video goes on: its progress follows as before
  }),
);
