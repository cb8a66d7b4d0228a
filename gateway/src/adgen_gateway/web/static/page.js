// What every part of the page shares: the signed-in API client, element look-up and making, how
// money and time read, server errors placed by their field, and buttons that are busy while they work.

import { ApiError } from "./api.js";

// The API client of the accepted key; null until sign-in (signing out reloads the page).
export const session = { api: null };

export const $ = (id) => document.getElementById(id);

export const STATUS_NAMES = { VIDEO_STATUS_QUEUED: "Queued", VIDEO_STATUS_PLANNING: "Planning",
  VIDEO_STATUS_RENDERING: "Rendering", VIDEO_STATUS_REFINING: "Finishing", VIDEO_STATUS_EXPORTING: "Exporting",
  VIDEO_STATUS_COMPLETED: "Completed", VIDEO_STATUS_FAILED: "Failed", VIDEO_STATUS_CANCELLED: "Cancelled",
  VIDEO_STATUS_AWAITING_REVIEW: "Waiting for your review", VIDEO_STATUS_EXPIRED: "Expired" };

export function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  for (const child of children) node.append(child);
  return node;
}

export const usd = (value) => (value > 0 && value < 0.01 ? "< $0.01" : `$${value.toFixed(2)}`);

export function duration(seconds) {
  if (seconds < 60) return `about ${Math.max(1, Math.round(seconds))} s`;
  return `about ${Math.round(seconds / 60)} min`;
}

// Errors: problem+json `errors[].field` names the control; anything unnamed goes to `fallback`.
export function clearErrors(scope) {
  for (const node of scope.querySelectorAll(".error")) node.textContent = "";
  for (const node of scope.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
}

export function showError(error, scope, fallback) {
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

export async function busy(button, work) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    await work();
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}
