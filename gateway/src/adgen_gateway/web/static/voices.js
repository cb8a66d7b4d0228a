// The voice of the voiceover: the picker filled from GET /v1/voices, a sample of the chosen voice
// played from its pre-signed link, the voiceover switched on or off, and how it is captioned.

import { CAPTION_MODES } from "./limits.js";
import { $, el, session } from "./page.js";

const CAPTION_LABELS = { sidecar: "A captions file (sidecar)", burned: "Burned into the picture, word by word", off: "None" };
$("captions").replaceChildren(
  ...CAPTION_MODES.map((mode) => el("option", { value: mode, textContent: CAPTION_LABELS[mode] || mode })),
);

// The sample link of each voice key ("" is the default voice), from the last listing.
const samples = new Map();

export async function loadVoices() {
  let listed;
  try {
    listed = await session.api.get("/v1/voices");
  } catch (error) {
    $("voice-error").textContent = `The voices could not be listed: ${error.message}`;
    return;
  }
  const picker = $("voice");
  picker.replaceChildren(el("option", { value: "", textContent: `Default (${listed.default})` }));
  for (const voice of listed.voices) {
    samples.set(voice.key, voice.sample_url);
    if (voice.key === listed.default) samples.set("", voice.sample_url);
    picker.append(el("option", { value: voice.key, textContent: `${voice.label} · ${voice.language} (${voice.key})` }));
  }
  showSampleButton();
}

function showSampleButton() {
  $("voice-play").disabled = !$("voiceover").checked || !samples.get($("voice").value);
}

// The request's voice fields: the key when one is picked, and whether lines are spoken at all.
export function voiceFields() {
  const fields = { voiceover: $("voiceover").checked };
  if (fields.voiceover && $("voice").value) fields.voice = $("voice").value;
  if (fields.voiceover) fields.captions = $("captions").value;
  return fields;
}

$("voice").addEventListener("change", () => {
  $("voice-sample").pause();
  showSampleButton();
});

$("voiceover").addEventListener("change", () => {
  $("voice").disabled = !$("voiceover").checked;
  $("captions").disabled = !$("voiceover").checked;
  if (!$("voiceover").checked) $("voice-sample").pause();
  showSampleButton();
});

$("voice-play").addEventListener("click", async () => {
  const audio = $("voice-sample");
  const link = samples.get($("voice").value);
  if (!link) return;
  if (audio.dataset.voice !== $("voice").value) {
    audio.src = link;
    audio.dataset.voice = $("voice").value;
  }
  audio.hidden = false;
  audio.currentTime = 0;
  try {
    await audio.play();
  } catch (error) {
    $("voice-error").textContent = `The sample could not be played: ${error.message}`;
  }
});
