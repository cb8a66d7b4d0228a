// The adgen page: sign in, the request form and its plan preview, wired to the product images
// (assets.js), the voice (voices.js), the review gate (review.js), live progress (progress.js) and
// past videos (past.js). Plain DOM; every server error is shown where it belongs.

import { Api } from "./api.js";
import { chosenAssets, loadAssets } from "./assets.js";
import { DURATIONS_S, PROMPT_MAX_CHARS } from "./limits.js";
import { $, busy, clearErrors, duration, el, session, showError, usd } from "./page.js";
import { loadPast } from "./past.js";
import { showVideo, whenFinished } from "./progress.js";
import { reviewField } from "./review.js";
import { loadVoices, voiceFields } from "./voices.js";

const KEY = "adgen.apiKey";
// One seed per page: a preview and the start that follows it, with the same inputs, get the same plan.
const seed = crypto.getRandomValues(new Uint32Array(1))[0] % 2 ** 31;

whenFinished(() => loadPast(true));

// ---- sign in ----------------------------------------------------------------------------------

async function signIn(key, { quiet = false } = {}) {
  const candidate = new Api(key);
  $("sign-in-error").textContent = "";
  let models = null;
  try {
    models = await candidate.get("/v1/video-models");
  } catch (error) {
    if (error.status === 401) {
      sessionStorage.removeItem(KEY);
      if (!quiet) $("sign-in-error").textContent = `That API key was not accepted (${error.message}).`;
      $("api-key").setAttribute("aria-invalid", "true");
      $("api-key").focus();
      return;
    }
    if (error.status === 0) {
      $("sign-in-error").textContent = error.message;
      return;
    }
  }
  session.api = candidate;
  sessionStorage.setItem(KEY, key);
  $("api-key").value = "";
  $("api-key").removeAttribute("aria-invalid");
  $("sign-in").hidden = true;
  $("workspace").hidden = false;
  $("sign-out").hidden = false;
  $("prompt").focus();
  if (models) fillModels(models);
  autoLength();
  loadAssets();
  loadVoices();
  loadPast(true);
}

$("sign-in-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const key = $("api-key").value.trim();
  if (!key) {
    $("sign-in-error").textContent = "Enter your API key.";
    return;
  }
  signIn(key);
});

$("sign-out").addEventListener("click", () => {
  sessionStorage.removeItem(KEY);
  location.reload();
});

// ---- form choices -----------------------------------------------------------------------------

$("prompt").maxLength = PROMPT_MAX_CHARS;
for (const s of DURATIONS_S) $("duration").append(el("option", { value: String(s), textContent: `${s} s` }));

// "Auto" says what it will become: the gateway reads the length from the prompt as the planner
// will (POST /v1/plans/duration), so the page has no reading of its own to drift from it.
const AUTO = { timer: 0, asked: 0 };
const AUTO_SOURCES = { prompt: "from your text", default: "by default" };

function autoLength() {
  clearTimeout(AUTO.timer);
  const prompt = $("prompt").value.trim();
  const option = $("duration").options[0];
  if (!session.api || !prompt) {
    option.textContent = "Auto";
    return;
  }
  AUTO.timer = setTimeout(async () => {
    const asked = ++AUTO.asked;
    try {
      const chosen = await session.api.post("/v1/plans/duration", { prompt });
      if (asked !== AUTO.asked) return;
      option.textContent = `Auto — ${chosen.duration_s} s ${AUTO_SOURCES[chosen.source] || ""}`.trim();
      option.title = chosen.note;
    } catch {
      if (asked === AUTO.asked) option.textContent = "Auto";
    }
  }, 300);
}
$("prompt").addEventListener("input", autoLength);
$("creativity").addEventListener("input", () => {
  $("creativity-value").value = Number($("creativity").value).toFixed(1);
});

// Without the list (an older gateway) the picker offers the default model only.
function fillModels({ models, default: fallback }) {
  for (const model of models) {
    const price = model.local ? "local, free" : `${usd(model.usd_per_clip)} per ${model.clip_s} s clip`;
    const label = `${model.key} (${price})${model.key === fallback ? " — default" : ""}`;
    $("model").append(el("option", { value: model.key, textContent: label }));
  }
}

// ---- plan preview and start -------------------------------------------------------------------

function requestBody() {
  const body = {
    prompt: $("prompt").value,
    aspect_ratio: $("aspect").value,
    creativity: Number($("creativity").value),
    asset_ids: chosenAssets(),
    seed,
    ...voiceFields(),
    ...reviewField(),
  };
  if ($("duration").value) body.duration_s = Number($("duration").value);
  if ($("model").value) body.video_model = $("model").value;
  return body;
}

function showPlan(spec, quote) {
  const beats = spec.beats || [];
  $("plan-summary").textContent =
    `${spec.duration_s} s ${spec.archetype_id ? `"${spec.archetype_id}" ` : ""}ad for ${spec.product_name || "your product"}` +
    ` in ${beats.length} beats.`;
  const facts = $("quote");
  facts.replaceChildren();
  const add = (term, value) => facts.append(el("dt", { textContent: term }), el("dd", { textContent: value }));
  add("Video model", quote.video_model);
  add("Estimated cost", usd(quote.cost.total_usd));
  add("Estimated time", duration(quote.estimated_seconds));
  add("Chunks", String((spec.chunk_plan && spec.chunk_plan.slots || []).length));
  $("beats").replaceChildren(
    ...beats.map((beat) =>
      el(
        "li",
        { className: "beat" },
        el("strong", { textContent: `${beat.start_s}–${beat.start_s + beat.duration_s} s · ${beat.shot_type || "shot"}` }),
        beat.headline ? el("span", { className: "headline", textContent: ` “${beat.headline}”` }) : "",
        el("p", { textContent: beat.prompt }),
        beat.voiceover ? el("p", { className: "line", textContent: `Voiceover: “${beat.voiceover}”` }) : "",
      ),
    ),
  );
  $("plan").hidden = false;
}

$("preview").addEventListener("click", () =>
  busy($("preview"), async () => {
    const form = $("video-form");
    clearErrors(form);
    try {
      const body = requestBody();
      const [plan, quote] = await Promise.all([
        session.api.post("/v1/plans", body),
        session.api.post("/v1/quotes", body),
      ]);
      showPlan(plan.spec, quote);
      $("plan-title").focus();
    } catch (error) {
      showError(error, form, $("form-error"));
    }
  }),
);

$("video-form").addEventListener("submit", (event) => {
  event.preventDefault();
  busy($("start"), async () => {
    const form = $("video-form");
    clearErrors(form);
    try {
      const created = await session.api.post("/v1/videos", requestBody());
      showVideo(created.id);
      loadPast(true);
    } catch (error) {
      showError(error, form, $("form-error"));
    }
  });
});

// ---- start ------------------------------------------------------------------------------------

const saved = sessionStorage.getItem(KEY);
if (saved) signIn(saved, { quiet: true });
