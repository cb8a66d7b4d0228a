// Product images: the user's library as checkboxes to feature in the ad, and uploads by the file
// picker or by dropping files on the zone, each new image ticked.

import { ApiError } from "./api.js";
import { $, clearErrors, el, session, showError } from "./page.js";

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

export async function loadAssets() {
  try {
    const { assets } = await session.api.get("/v1/assets?page_size=50");
    for (const asset of [...assets].reverse()) addAsset(asset, false);
  } catch (error) {
    $("files-error").textContent = `Your images could not be listed: ${error.message}`;
  }
}

// The ids of the images ticked to feature in the ad.
export const chosenAssets = () => [...document.querySelectorAll("#assets input:checked")].map((box) => box.value);

async function upload(files) {
  const scope = $("drop-zone").parentElement;
  clearErrors(scope);
  for (const file of files) {
    $("uploading").textContent = `Uploading ${file.name}…`;
    const form = new FormData();
    form.append("file", file);
    form.append("name", file.name);
    try {
      addAsset(await session.api.request("POST", "/v1/assets", { form }), true);
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
