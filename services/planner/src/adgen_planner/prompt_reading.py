"""What a prompt says: product, category, duration, mood, colours, brand, setting, call to action.

Reading is deliberately shallow and predictable: keyword tables (`vocabulary`) and a handful of
patterns, no model. Every field that comes from the user's words passes through `sanitise`
(`adgen_video.text_safety`) and a word cap before it can reach an image prompt or on-screen text, so the
user's text is only ever *data* (a product name, a setting), never an instruction to a downstream
model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from adgen_planner.vocabulary import (
    CATEGORIES,
    COLOURS,
    DETERMINERS,
    FILLER,
    GENERAL_CATEGORY,
    MOOD_WORDS,
    NOT_BRANDS,
    NOT_COLOURS,
    PLACES,
    words,
)
from adgen_video.durations import NUMBER_WORD, read_duration
from adgen_video.request_limits import PROMPT_MAX_CHARS
from adgen_video.text_safety import sanitise

MAX_FIELD_WORDS = 6


def _phrase(phrase: str) -> str:
    """A pattern for a phrase of the vocabulary, any run of whitespace between its words."""
    return re.escape(phrase).replace(r"\ ", r"\s+")


# ---------------------------------------------------------------------------------------------
# Product categories


def _keyword_pattern(keyword: str) -> re.Pattern[str]:
    parts = [re.escape(w) for w in keyword.split()]
    return re.compile(r"(?<![\w-])" + r"[\s-]+".join(parts) + r"(?:s|es)?(?![\w-])", re.IGNORECASE)


_KEYWORDS: tuple[tuple[str, re.Pattern[str], str], ...] = tuple(
    sorted(
        ((k, _keyword_pattern(k), c.category_id) for c in CATEGORIES.values() for k in c.keywords),
        key=lambda item: -len(item[0]),
    )
)


def _category_in(text: str, head_noun: bool = False) -> tuple[str, str] | None:
    """(category id, matched text) of the most specific keyword in `text`.

    In a product name the head noun comes last ("budgeting app" is an app, "coffee machine" a
    machine), so with `head_noun` the keyword ending last wins, then the longest.
    """
    best: tuple[int, int, str, str] | None = None
    for keyword, pattern, category_id in _KEYWORDS:
        for match in pattern.finditer(text):
            rank = (match.end() if head_noun else 0, len(keyword))
            if best is None or rank > best[:2]:
                best = (*rank, category_id, match.group(0))
            if not head_noun:
                break
    return (best[2], best[3]) if best else None


# ---------------------------------------------------------------------------------------------
# Colours, brand, call to action, setting (the duration is read by adgen_video.durations, which the
# gateway shares)

_COLOUR_PATTERN = re.compile(
    r"(?<![\w])(?:(?P<hex>#[0-9a-f]{6})(?![0-9a-f])|(?P<name>"
    + "|".join(_phrase(n) for n in sorted(COLOURS, key=len, reverse=True))
    + r"))(?![\w])",
    re.IGNORECASE,
)
_NOT_COLOURS = re.compile(r"\b(?:" + "|".join(_phrase(p) for p in NOT_COLOURS) + r")\b", re.IGNORECASE)

_CAPITALISED = r"[A-Z0-9][\w&'’.+-]*"
_BRAND_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(rf"\b(?:called|named|brand(?:ed)?)\s+[\"“']?({_CAPITALISED}(?:\s+{_CAPITALISED}){{0,2}})"),
    re.compile(rf"\b(?:by|from)\s+({_CAPITALISED}(?:\s+{_CAPITALISED}){{0,2}})"),
    re.compile(rf"\bfor\s+(?:(?:a|an|the|our|their)\s+)?({_CAPITALISED}(?:\s+{_CAPITALISED}){{0,2}})"),
    re.compile(r"\b([A-Z][\w&.+-]*)['’]s\b"),
)

_POSSESSIVE = re.compile(r"['’]s$")

_CTA_EXPLICIT = re.compile(
    r"\b(?:call[\s-]+to[\s-]+action|cta)\s*(?:is|of|:|=|-)?\s*[\"“']?([^\"”'.,;!\n]{2,60})", re.I
)
_CTA_QUOTED = re.compile(r"\bend(?:ing|s)?\s+(?:on|with)\s+[\"“']([^\"”']{2,60})[\"”']", re.I)
_CTA_PHRASES = re.compile(
    r"\b(?:shop|buy|order)\s+(?:it\s+)?(?:now|today|online)"
    r"|\bdownload\s+(?:it\s+|the\s+app\s+|now\s+|today\s+)?(?:now|today|free)?"
    r"|\bget\s+(?:it|yours|yours\s+today|it\s+today|started)(?:\s+(?:now|today))?"
    r"|\bsign\s+up(?:\s+(?:now|today|free))?"
    r"|\bsubscribe(?:\s+(?:now|today))?"
    r"|\bbook\s+(?:now|today|a\s+test\s+drive|your\s+stay|an\s+appointment)"
    r"|\b(?:learn|find\s+out|discover)\s+more"
    r"|\btry\s+(?:it\s+)?(?:free|for\s+free|today|now)"
    r"|\bstart\s+(?:your\s+)?free\s+trial"
    r"|\bget\s+a\s+(?:free\s+)?quote"
    r"|\bdonate\s+(?:now|today)"
    r"|\bjoin\s+(?:us|now|today)(?:\s+today)?"
    r"|\bvisit\s+(?:us|our\s+store)(?:\s+today)?",
    re.I,
)

_PLACE = "(?:" + "|".join(_phrase(p) for p in PLACES) + ")"
_SETTING = re.compile(
    r"(?<![\w-])(?:in|on|at|across|through|along)\s+"
    rf"((?:(?:a|an|the)\s+)?(?:(?!(?:in|on|at|for|with|and)\b)[\w'-]+\s+){{0,3}}?{_PLACE}(?:\s+{_PLACE})*"
    r"(?:\s+(?:at|by)\s+(?:night|dawn|dusk|sunset|sunrise|midnight))?)(?![\w-])",
    re.IGNORECASE,
)

# ---------------------------------------------------------------------------------------------
# Product name

_AD_NOUN = r"(?:ads?|advert|advertisement|commercial|video|spot|promo|promotion|campaign|teaser|trailer|film|clip|reel)"
_AFTER_AD = re.compile(
    rf"\b{_AD_NOUN}\s+(?:for|of|about|promoting|showcasing|featuring|selling|introducing|launching)\s+(?P<rest>.+)",
    re.IGNORECASE | re.DOTALL,
)
_BEFORE_AD = re.compile(rf"^(?P<lead>.*?)\b{_AD_NOUN}\b", re.IGNORECASE | re.DOTALL)
_CUT = re.compile(
    r"[,;:!?()\"“”]|\.(?!\d)|\s[-–—]\s"
    r"|(?<![\w-])(?:with|that|which|who|where|while|featuring|showing|using|in|on|at|for|by|from|called|named|to|so"
    r"|because|targeting|aimed|and\s+make|make\s+it)(?![\w-])",
    re.IGNORECASE,
)
_DURATION_WORDS = re.compile(
    r"(?<![\w-])(?:\d{1,3}\s*-?\s*(?:s|secs?|seconds?|mins?|minutes?)|half[\s-]+(?:a[\s-]+)?minute"
    r"|(?:a|one)[\s-]+minute|(?:" + NUMBER_WORD + r")[\s-]+seconds?)"
    r"(?![\w-])",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class PromptReading:
    """Everything the composer uses from the prompt; user-derived strings are already sanitised.

    `duration_s` is the number the prompt states, unvalidated (the composer snaps it to a valid
    length); `colours` are hex values of colours the prompt names, in order, and empty when it
    names none; `moods` lists mood ids by how often, then how early, they are evoked.
    """

    product_name: str
    category: str
    duration_s: int | None
    moods: tuple[str, ...]
    style_words: tuple[str, ...]
    colours: tuple[str, ...]
    colour_names: tuple[str, ...]
    brand: str | None
    call_to_action: str | None
    setting: str | None


def read_colours(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(hex values, names) of the colours the prompt names, first mention first, without repeats."""
    hexes: list[str] = []
    names: list[str] = []
    for match in _COLOUR_PATTERN.finditer(_NOT_COLOURS.sub(" ", text)):
        if match.group("hex"):
            name, value = match.group("hex").upper(), match.group("hex").upper()
        else:
            name = " ".join(match.group("name").lower().split())
            value = COLOURS[name]
        if value not in hexes:
            hexes.append(value)
            names.append(name)
    return tuple(hexes), tuple(names)


def read_moods(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(mood ids, style words as written): the most evoked mood first, ties broken by first mention."""
    style_words: list[str] = []
    counts: dict[str, list[int]] = {}
    for position, word in enumerate(words(text)):
        mood = MOOD_WORDS.get(word)
        if mood is None:
            continue
        if word not in style_words:
            style_words.append(word)
        counts.setdefault(mood, [0, position])[0] += 1
    ranked = sorted(counts, key=lambda m: (-counts[m][0], counts[m][1]))
    return tuple(ranked), tuple(style_words)


def _is_known_word(token: str) -> bool:
    word = token.lower().strip("'’.")
    return (
        word in NOT_BRANDS
        or word in MOOD_WORDS
        or word in COLOURS
        or _category_in(word) is not None
        or _DURATION_WORDS.fullmatch(word) is not None
        or word.isdigit()
    )


def read_brand(text: str) -> str | None:
    """A brand the prompt names: "by Nova", "for Acme", "called Zap", "Acme's"; None when there is none."""
    for pattern in _BRAND_PATTERNS:
        for match in pattern.finditer(text):
            tokens: list[str] = []
            for token in match.group(1).split():
                if _is_known_word(token):
                    break
                tokens.append(_POSSESSIVE.sub("", token))
                if _POSSESSIVE.search(token):
                    break
            brand = sanitise(" ".join(tokens), max_words=3)
            if brand and (brand[0].isupper() or brand[0].isdigit()):
                return brand
    return None


def read_call_to_action(text: str) -> str | None:
    """The call to action the prompt states ("shop now", 'CTA: "Join the club"'), capitalised; None if none."""
    for pattern in (_CTA_EXPLICIT, _CTA_QUOTED, _CTA_PHRASES):
        match = pattern.search(text)
        if match:
            cta = sanitise(match.group(match.lastindex or 0), max_words=MAX_FIELD_WORDS)
            if cta:
                return cta[0].upper() + cta[1:]
    return None


def read_setting(text: str) -> str | None:
    """Where the prompt places the ad ("on a rainy city street at night" → "rainy city street at night")."""
    match = _SETTING.search(text)
    if not match:
        return None
    return sanitise(match.group(1), max_words=MAX_FIELD_WORDS) or None


def _strip_leading(words: list[str], drop: frozenset[str]) -> list[str]:
    while words and words[0].lower() in drop:
        words = words[1:]
    return words


def _clean_product(phrase: str, brand: str | None, drop_moods: bool) -> str:
    phrase = _DURATION_WORDS.sub(" ", phrase)
    words = _strip_leading(phrase.split(), DETERMINERS | FILLER)
    if brand:
        brand_words = brand.lower().split()
        if [_POSSESSIVE.sub("", w.lower()) for w in words[: len(brand_words)]] == brand_words:
            words = _strip_leading(words[len(brand_words) :], DETERMINERS)
    if drop_moods:
        kept = _strip_leading(words, frozenset(MOOD_WORDS) | DETERMINERS | FILLER)
        words = kept or words
    while words and words[-1].lower() in FILLER | DETERMINERS:
        words = words[:-1]
    return sanitise(" ".join(words), max_words=MAX_FIELD_WORDS)


def read_product_name(text: str, brand: str | None = None) -> str:
    """The product as the prompt names it ("ad for a matte-black titanium watch, luxury feel" →
    "matte-black titanium watch"); "" when the prompt does not name one."""
    after = _AFTER_AD.search(text)
    if after:
        rest = after.group("rest")
        cut = _CUT.search(rest)
        product = _clean_product(rest[: cut.start()] if cut else rest, brand, drop_moods=False)
        if product:
            return product
    before = _BEFORE_AD.search(text)
    if before:
        lead = before.group("lead")
        cuts = list(_CUT.finditer(lead))
        product = _clean_product(lead[cuts[-1].end() :] if cuts else lead, brand, drop_moods=True)
        if product:
            return product
    for clause in _CUT.split(text):
        if clause and _category_in(clause):
            return _clean_product(clause, brand, drop_moods=True)
    return ""


def read_category(product_name: str, text: str) -> str:
    """The product family: from the product name when it says, else from the whole prompt."""
    found = _category_in(product_name, head_noun=True) or _category_in(text)
    return found[0] if found else GENERAL_CATEGORY


def read_prompt(prompt: str) -> PromptReading:
    """Reads a prompt; the result only holds sanitised, length-capped user text.

    Only the first PROMPT_MAX_CHARS characters are read: an ad brief is a sentence or two, and the
    bound keeps the patterns' cost small whatever is sent.
    """
    text = sanitise(prompt[:PROMPT_MAX_CHARS])
    brand = read_brand(text)
    product = read_product_name(text, brand)
    moods, style_words = read_moods(text)
    colours, colour_names = read_colours(text)
    return PromptReading(
        product_name=product,
        category=read_category(product, text),
        duration_s=read_duration(text),
        moods=moods,
        style_words=style_words,
        colours=colours,
        colour_names=colour_names,
        brand=brand,
        call_to_action=read_call_to_action(text),
        setting=read_setting(text),
    )
