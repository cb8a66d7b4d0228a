// A beat's words edited in place, as the review gate and a finished video's "Edit words" both do it:
// a labelled input per word field with its message beside it, an edit of only what changed, and the
// gateway's faults put back by their input. A form names its inputs' id prefix (so two forms on the
// page never share an id) and the fields it offers.

import { $, el } from "./page.js";

const LABELS = { headline: "Headline", subline: "Subline", voiceover: "Voiceover" };
// A spoken line is a sentence or two: it gets room to be read whole.
const LONG = new Set(["voiceover"]);

const inputId = (form, name, index) => `${form.prefix}-${name}-${index}`;

// The label, input and message of each field the form offers, for the beat at `index`.
export function wordInputs(form, beat, index) {
  const nodes = [];
  for (const name of form.fields) {
    const id = inputId(form, name, index);
    const value = beat[name] || "";
    const field = LONG.has(name)
      ? el("textarea", { id, rows: 2, value })
      : el("input", { type: "text", id, value, autocomplete: "off" });
    const error = el("p", { id: `${id}-error`, className: "error" });
    error.setAttribute("role", "alert");
    field.setAttribute("aria-describedby", error.id);
    nodes.push(el("label", { htmlFor: id, textContent: `${LABELS[name]} of beat ${index + 1}` }), field, error);
  }
  return nodes;
}

// The inputs say the beats' words again, as saved: what is typed there afterwards is the next edit.
export function showWords(form, beats) {
  beats.forEach((beat, index) => {
    for (const name of form.fields) {
      const field = $(inputId(form, name, index));
      if (field) field.value = beat[name] || "";
    }
  });
}

// Only what changed is sent: a field left as it was cannot be refused, and says nothing new.
export function changedWords(form, beats) {
  const edits = [];
  beats.forEach((beat, index) => {
    const edit = { index };
    for (const name of form.fields) {
      const field = $(inputId(form, name, index));
      const value = field ? field.value.trim() : beat[name] || "";
      if (value !== (beat[name] || "")) edit[name] = value;
    }
    if (Object.keys(edit).length > 1) edits.push(edit);
  });
  return edits;
}

// The gateway names a refused field by its place in the edit sent ("beats.0.headline"), not by its
// beat; null when the field is not one of the form's inputs.
export function inputOfFault(form, field, sent) {
  const match = /^beats\.(\d+)\.(\w+)$/.exec(field);
  const edit = match && sent[Number(match[1])];
  return edit && form.fields.includes(match[2]) ? inputId(form, match[2], edit.index) : null;
}

// Each refused field's message goes by its input; the rest (a 409's or 429's detail, a fault of no
// input) into `loose`, the form's own message.
export function showWordFaults(form, error, sent, loose) {
  const unplaced = [];
  for (const { field, message } of error.errors || []) {
    const id = inputOfFault(form, field, sent);
    if (!id) {
      unplaced.push(`${field}: ${message}`);
      continue;
    }
    $(`${id}-error`).textContent = message;
    $(id).setAttribute("aria-invalid", "true");
  }
  const placed = (error.errors || []).length > unplaced.length;
  loose.textContent = placed ? unplaced.join("; ") : [error.message, ...unplaced].join(" — ");
}
