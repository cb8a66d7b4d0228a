// The adgen page: sign in, product images, the request form, plan preview, live progress, the
// result and past videos. Plain DOM; every server error is shown where it belongs.

import { Api, ApiError, videoPath } from "./api.js";
import { follow, isTerminal } from "./watch.js";

const $ = (id) => document.getElementById(id);
const KEY = "adgen.apiKey";
const PHASES = ["PHASE_PLAN", "PHASE_STORYBOARD", "PHASE_CHUNKS", "PHASE_REFINE", "PHASE_EXPORT"];
const ASPECT_NAMES = { ASPECT_RATIO_16_9: "16:9", ASPECT_RATIO_9_16: "9:16", ASPECT_RATIO_1_1: "1:1" };
const PHASE_NAMES = { PHASE_PLAN: "planning", PHASE_STORYBOARD: "storyboard", PHASE_CHUNKS: "animation",
  PHASE_REFINE: "finishing", PHASE_EXPORT: "export" };
const STATUS_NAMES = { VIDEO_STATUS_QUEUED: "Queued", VIDEO_STATUS_PLANNING: "Planning",
  VIDEO_STATUS_RENDERING: "Rendering", VIDEO_STATUS_REFINING: "Finishing", VIDEO_STATUS_EXPORTING: "Exporting",
  VIDEO_STATUS_COMPLETED: "Completed", VIDEO_STATUS_FAILED: "Failed", VIDEO_STATUS_CANCELLED: "Cancelled" };

let api = null;
// One seed per page: a preview and the start that follows it, with the same inputs, get the same plan.
const seed = crypto.getRandomValues(new Uint32Array(1))[0] % 2 ** 31;
const watching = { id: null, follower: null, chunks: new Set(), framesShown: 0, framesWanted: 0, loading: false, shownAt: 0, shownPercent: 0 };
let pastToken = null;

function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  for (const child of children) node.append(child);
  return node;
}

const usd = (value) => (value > 0 && value < 0.01 ? "< $0.01" : `$${value.toFixed(2)}`);
const micros = (value) => Number(value || 0) / 1e6;

function duration(seconds) {
  if (seconds < 60) return `about ${Math.max(1, Math.round(seconds))} s`;
  return `about ${Math.round(seconds / 60)} min`;
}

// Errors: problem+json `errors[].field` names the control; anything unnamed goes to `fallback`.
function clearErrors(scope) {
  for (const node of scope.querySelectorAll(".error")) node.textContent = "";
  for (const node of scope.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
}

function showError(error, scope, fallback) {
  const fields = error instanceof ApiError ? error.errors : [];
  let placed = false;
  for (const { field, message } of fields) {
    const target = scope.querySelector(`[data-error-for="${CSS.escape(field.split(".")[0])}"]`);
    if (!target) continue;
    target.textContent = `${field}: ${message}`;
    const control = scope.querySelector(`[aria-describedby~="${target.id}"]`);
    if (control) control.setAttribute("aria-invalid", "true");
    placed = true;
  }
  if (!placed) fallback.textContent = error.message;
}

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
  api = candidate;
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

for (let s = 10; s <= 60; s += 5) $("duration").append(el("option", { value: String(s), textContent: `${s} s` }));

// "Auto" says what it will become: the gateway reads the length from the prompt as the planner
// will (POST /v1/plans/duration), so the page has no reading of its own to drift from it.
const AUTO = { timer: 0, asked: 0 };
const AUTO_SOURCES = { prompt: "from your text", default: "by default" };

function autoLength() {
  clearTimeout(AUTO.timer);
  const prompt = $("prompt").value.trim();
  const option = $("duration").options[0];
  if (!api || !prompt) {
    option.textContent = "Auto";
    return;
  }
  AUTO.timer = setTimeout(async () => {
    const asked = ++AUTO.asked;
    try {
      const chosen = await api.post("/v1/plans/duration", { prompt });
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

// ---- product images ---------------------------------------------------------------------------

function addAsset(asset, checked) {
  if (document.querySelector(`#assets input[value="${CSS.escape(asset.asset_id)}"]`)) return;
  const box = el("input", { type: "checkbox", value: asset.asset_id, checked, id: `asset-${asset.asset_id}` });
  const image = el("img", { src: asset.urls.thumbnail, alt: "", width: 96, height: 96, loading: "lazy" });
  const name = el("span", { textContent: asset.name || "image" });
  const item = el("li", {}, el("label", { htmlFor: box.id }, box, image, name));
  if (asset.near_duplicates && asset.near_duplicates.length) {
    item.append(el("span", { className: "hint", textContent: "looks like an image you already have" }));
  }
  $("assets").prepend(item);
  $("assets-box").hidden = false;
}

async function loadAssets() {
  try {
    const { assets } = await api.get("/v1/assets?page_size=50");
    for (const asset of [...assets].reverse()) addAsset(asset, false);
  } catch (error) {
    $("files-error").textContent = `Your images could not be listed: ${error.message}`;
  }
}

async function upload(files) {
  const scope = $("drop-zone").parentElement;
  clearErrors(scope);
  for (const file of files) {
    $("uploading").textContent = `Uploading ${file.name}…`;
    const form = new FormData();
    form.append("file", file);
    form.append("name", file.name);
    try {
      addAsset(await api.request("POST", "/v1/assets", { form }), true);
      $("uploading").textContent = `Uploaded ${file.name}.`;
    } catch (error) {
      $("uploading").textContent = "";
      showError(error, scope, $("files-error"));
      if (!(error instanceof ApiError) || !error.errors.length) {
        $("files-error").textContent = `${file.name}: ${error.message}`;
      }
    }
  }
  $("files").value = "";
}

$("files").addEventListener("change", () => upload([...$("files").files]));
const zone = $("drop-zone");
zone.addEventListener("dragover", (event) => {
  event.preventDefault();
  zone.classList.add("over");
});
zone.addEventListener("dragleave", () => zone.classList.remove("over"));
zone.addEventListener("drop", (event) => {
  event.preventDefault();
  zone.classList.remove("over");
  upload([...event.dataTransfer.files]);
});

// ---- plan preview and start -------------------------------------------------------------------

function requestBody() {
  const body = {
    prompt: $("prompt").value,
    aspect_ratio: $("aspect").value,
    creativity: Number($("creativity").value),
    asset_ids: [...document.querySelectorAll("#assets input:checked")].map((box) => box.value),
    seed,
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
      ),
    ),
  );
  $("plan").hidden = false;
}

async function busy(button, work) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    await work();
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

$("preview").addEventListener("click", () =>
  busy($("preview"), async () => {
    const form = $("video-form");
    clearErrors(form);
    try {
      const body = requestBody();
      const [plan, quote] = await Promise.all([api.post("/v1/plans", body), api.post("/v1/quotes", body)]);
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
      const created = await api.post("/v1/videos", requestBody());
      showVideo(created.id);
      loadPast(true);
    } catch (error) {
      showError(error, form, $("form-error"));
    }
  });
});

// ---- watching a video -------------------------------------------------------------------------

function renderProgress(progress, kind, event) {
  const p = progress || {};
  if (kind === "chunk_ready" && event && event.chunk_ready) watching.chunks.add(Number(event.chunk_ready.chunk_index || 0));
  // The stream replays the video's history from its start, each event with the progress as it was
  // then, while the page has already shown the current state: an older snapshot must not move the
  // bar back. Older is an earlier time, or a lower percent: services stamp their events' times
  // themselves, so two events can arrive in the opposite order of their times, but the gateway's
  // percent never decreases over a video's history (a retry keeps what was done).
  const at = p.updated_at ? Date.parse(p.updated_at) : NaN;
  const percent = Number(p.percent || 0);
  if (at < watching.shownAt || percent < watching.shownPercent) return;
  if (!Number.isNaN(at)) watching.shownAt = at;
  watching.shownPercent = percent;
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

  const failed = p.status === "VIDEO_STATUS_FAILED";
  $("failure").hidden = !failed && p.status !== "VIDEO_STATUS_CANCELLED";
  if (failed) {
    const phase = PHASE_NAMES[p.failed_phase] || "an unknown phase";
    $("failure-text").textContent = `Failed during ${phase}: ${p.error || "no reason given"}`;
  } else if (p.status === "VIDEO_STATUS_CANCELLED") {
    $("failure-text").textContent = "This video was cancelled.";
  }
  $("retry").hidden = !(failed || p.status === "VIDEO_STATUS_CANCELLED");
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

async function loadFrames() {
  if (watching.loading || !watching.id) return;
  watching.loading = true;
  const id = watching.id;
  try {
    const { frames } = await api.get(videoPath(id, "/frames"));
    if (id !== watching.id) return;
    const list = $("frames");
    for (const frame of frames) {
      let item = list.querySelector(`[data-beat="${frame.beat_index}"]`);
      if (!item) {
        item = el("li", { className: "pending", textContent: `Beat ${frame.beat_index + 1}` });
        item.dataset.beat = frame.beat_index;
        list.append(item);
      }
      if (frame.status === "done" && frame.url && item.classList.contains("pending")) {
        item.classList.remove("pending");
        item.replaceChildren(el("img", { src: frame.url, alt: `Storyboard of beat ${frame.beat_index + 1}` }));
      }
    }
    watching.framesShown = frames.filter((f) => f.status === "done").length;
  } catch {
    // Thumbnails are a nicety; the next update tries again.
  } finally {
    watching.loading = false;
  }
  if (id === watching.id && watching.framesWanted > watching.framesShown) setTimeout(loadFrames, 1000);
}

function setMode(mode) {
  $("transport").dataset.mode = mode;
  $("transport").textContent = mode === "sse" ? "live stream" : "checking every 2 s";
}

// A rendition on a <video>: its link, poster and captions. The links are the store's (another
// origin), so the element asks with CORS: a captions track from elsewhere loads only then.
function setMedia(player, rendition) {
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

// A completed video's JSON carries pre-signed links to each rendition, the primary one first.
function showResult(video) {
  const renditions = (video.renditions || []).filter((r) => r.download_url);
  const primary = renditions.find((r) => r.primary) || renditions[0];
  if (!primary) {
    $("failure").hidden = false;
    $("failure-text").textContent = "The video is done but has no download link yet; open it again in a moment.";
    return;
  }
  setMedia($("player"), primary);
  $("download").href = primary.download_url;
  $("download").textContent = `Download MP4 (${primary.aspect_ratio})`;
  $("other-renditions").replaceChildren(
    ...renditions
      .filter((r) => r !== primary)
      .map((r) => el("li", {}, el("a", { href: r.download_url, download: "", textContent: `Download ${r.aspect_ratio}` }))),
  );
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
    shownAt: 0,
    shownPercent: 0,
  });
  $("frames").replaceChildren();
  $("chunks").replaceChildren();
  $("result").hidden = true;
  $("player").removeAttribute("src");
  $("player").removeAttribute("poster");
  $("player").querySelectorAll("track").forEach((track) => track.remove());
  $("failure").hidden = true;
  setMode("");
  $("transport").textContent = "—";
}

async function showVideo(id) {
  resetWatch(id);
  $("watch").hidden = false;
  let video;
  try {
    video = await api.get(videoPath(id));
  } catch (error) {
    $("status").textContent = `This video cannot be shown: ${error.message}`;
    return;
  }
  $("watch-prompt").textContent = video.request && video.request.prompt;
  renderProgress(video.progress, null, null);
  $("watch-title").scrollIntoView({ block: "start" });
  if (video.status === "completed") return showResult(video);
  if (isTerminal(video.progress)) return;
  watching.follower = follow(api, id, {
    progress: (progress, kind, event) => id === watching.id && renderProgress(progress, kind, event),
    mode: (mode) => id === watching.id && setMode(mode),
    finished: (finished) => {
      if (id !== watching.id) return;
      loadPast(true);
      if (finished.status === "completed") showResult(finished);
    },
    problem: (error) => {
      $("status").textContent = `Stopped following this video: ${error.message}`;
    },
  });
}

$("cancel").addEventListener("click", () =>
  busy($("cancel"), async () => {
    try {
      await api.post(videoPath(watching.id, "/cancel"));
    } catch (error) {
      $("status").textContent = `Could not cancel: ${error.message}`;
    }
  }),
);

$("retry").addEventListener("click", () =>
  busy($("retry"), async () => {
    const id = watching.id;
    try {
      await api.post(videoPath(id, "/retry"));
      showVideo(id);
    } catch (error) {
      $("failure-text").textContent = `Could not retry: ${error.message}`;
    }
  }),
);

// ---- past videos ------------------------------------------------------------------------------

// Each past video says what it is: its poster, length, shape, cost, status and version (the run:
// a retry makes a new one). A finished one plays here and downloads; a failed one says why and
// offers Retry. The list carries the same renditions and links as one video's read.
function pastFacts(video, primary) {
  const spec = video.spec || {};
  const shape = primary ? primary.aspect_ratio : ASPECT_NAMES[(video.request || {}).aspect_ratio] || "";
  return [
    spec.duration_s ? `${spec.duration_s} s` : "length not planned yet",
    shape,
    usd((video.cost && video.cost.total_usd) || 0),
    `version ${video.run || 1}`,
  ].filter(Boolean).join(" · ");
}

function pastItem(video) {
  const renditions = (video.renditions || []).filter((r) => r.download_url);
  const primary = renditions.find((r) => r.primary) || renditions[0];
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
  if (video.status === "failed" || video.status === "cancelled") {
    const reason = video.status === "failed" ? `Failed: ${video.error || "no reason given"}` : "Cancelled.";
    const retry = el("button", { type: "button", textContent: "Retry" });
    retry.setAttribute("aria-label", `Retry “${prompt}”`);
    const note = el("p", { className: "failure", textContent: reason });
    retry.addEventListener("click", () =>
      busy(retry, async () => {
        try {
          await api.post(videoPath(video.id, "/retry"));
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

async function loadPast(fresh) {
  if (fresh) pastToken = null;
  const query = new URLSearchParams({ page_size: "10" });
  if (pastToken) query.set("page_token", pastToken);
  try {
    const { videos, next_page_token: next } = await api.get(`/v1/videos?${query}`);
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

// ---- start ------------------------------------------------------------------------------------

const saved = sessionStorage.getItem(KEY);
if (saved) signIn(saved, { quiet: true });
