"""User text made safe to reach a model, a voice or the screen: as data, never as orders.

Shared by every service that passes a user's words on (the planner's prompts and on-screen text,
the voice service's lines): `sanitise` removes control and invisible characters, links, markup and
instruction-like phrases, so what is left can only describe a product, a place or a look, and it
is spoken or drawn as plain text. `instruction_phrases` names what it removed, for the planner's
check that a model did not repeat it.
"""

from __future__ import annotations

import re
import unicodedata

_INJECTION = re.compile(
    r"\b(?:ignore|disregard|forget|override|bypass)\b[^.,;:!?\n]*?"
    r"\b(?:instructions?|prompts?|rules|guidelines|guardrails|above|previous|prior|earlier|system)\b[^.,;:!?\n]*"
    r"|\b(?:system\s+prompt|you\s+are\s+now|act\s+as|pretend\s+(?:to\s+be|you)|jailbreak|developer\s+mode"
    r"|new\s+instructions?|reveal\s+(?:your|the)\s+(?:prompt|instructions))\b[^.,;:!?\n]*",
    re.IGNORECASE,
)
_URL = re.compile(
    r"(?:[a-z][a-z0-9+.-]*://|www\.)\S*"
    r"|\S+@\S+"
    r"|\b[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|io|ai|co|app|dev|xyz|ly|info|biz|me|tv|gg|uk|de)\b(?:/\S*)?",
    re.IGNORECASE,
)
_MARKUP = re.compile(r"[{}<>\[\]`|\\]")
# What a removed phrase leaves behind: "a watch, , output" → "a watch, output".
_SPACED_PUNCTUATION = re.compile(r"\s+([,;:])")
_REPEATED_PUNCTUATION = re.compile(r"([,;:])[,;:]+")
_UNPRINTABLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
_EDGE_PUNCTUATION = " \t,.;:-–—'\"“”‘’!?/"


def _sanitise_once(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = "".join(" " if unicodedata.category(ch) in _UNPRINTABLE else ch for ch in text)
    text = _URL.sub(" ", text)
    text = _INJECTION.sub(" ", text)
    text = _MARKUP.sub(" ", text)
    text = _SPACED_PUNCTUATION.sub(r"\1", " ".join(text.split()))
    return _REPEATED_PUNCTUATION.sub(r"\1", text).strip(_EDGE_PUNCTUATION)


def sanitise(text: str, max_words: int | None = None) -> str:
    """User text made safe to embed in a generated prompt or on screen.

    Removes control and format characters (including invisible bidi and zero-width ones), URLs,
    e-mail addresses, template/markup characters and instruction-like phrases ("ignore previous
    instructions", "you are now", "system prompt"…), collapses whitespace and optionally keeps
    the first `max_words` words. Idempotent: removing a phrase can join text into a new one, so it
    repeats until nothing changes.
    """
    previous = None
    while text != previous:
        previous, text = text, _sanitise_once(text)
    if max_words is not None:
        text = " ".join(text.split()[:max_words]).strip(_EDGE_PUNCTUATION)
    return text


def instruction_phrases(text: str) -> tuple[str, ...]:
    """The instruction-like phrases in `text` ("ignore previous instructions and …") that `sanitise`
    removes: what a user may try to smuggle through a prompt to a downstream model."""
    normalised = unicodedata.normalize("NFKC", text)
    return tuple(p for p in (" ".join(m.group(0).split()) for m in _INJECTION.finditer(normalised)) if p)
