"""What a prompt says: product, category, duration, mood, colours, brand, setting, call to action.

Reading is deliberately shallow and predictable: keyword tables and a handful of patterns, no
model. Every field that comes from the user's words passes through `sanitise` and a word cap
before it can reach an image prompt or on-screen text, so the user's text is only ever *data*
(a product name, a setting), never an instruction to a downstream model.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from adgen_kernel.durations import NUMBER_WORD, read_duration

MAX_FIELD_WORDS = 6
MAX_PROMPT_CHARS = 2000
GENERAL_CATEGORY = "general"

# ---------------------------------------------------------------------------------------------
# Sanitising user text


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


# ---------------------------------------------------------------------------------------------
# Product categories


@dataclass(frozen=True)
class Category:
    """A product family: how to recognise it and the defaults it implies for an ad.

    `product_tags` are matched against the beats' compatible products; `setting`,
    `benefits` and `call_to_action` are used when the prompt does not state them.
    """

    category_id: str
    keywords: tuple[str, ...]
    product_tags: frozenset[str]
    setting: str
    benefits: tuple[str, ...]
    call_to_action: str


def _category(
    category_id: str, tags: str, keywords: str, setting: str, benefits: tuple[str, ...], call_to_action: str
) -> Category:
    return Category(
        category_id=category_id,
        keywords=tuple(k.strip() for k in keywords.split(",") if k.strip()),
        product_tags=frozenset(t.strip() for t in tags.split(",") if t.strip()),
        setting=setting,
        benefits=benefits,
        call_to_action=call_to_action,
    )


# fmt: off
_CATEGORIES: tuple[Category, ...] = (
    _category("luxury", "luxury", "watch, wristwatch, timepiece, chronograph, handbag, cufflinks, champagne, yacht",
              "a minimalist marble interior", ("Crafted to last", "Precision in every detail", "Made for a lifetime"),
              "Discover the collection"),
    _category("jewelry", "jewelry, luxury",
              "jewelry, jewellery, necklace, bracelet, earring, ring, engagement ring, diamond, pendant, brooch",
              "a black velvet display", ("Brilliance that lasts", "Hand-finished detail", "Made to be treasured"),
              "Discover the collection"),
    _category("fragrance", "luxury, beauty, fashion", "perfume, fragrance, cologne, eau de parfum, eau de toilette",
              "a softly lit velvet studio", ("An unforgettable trail", "Notes that linger", "Your signature scent"),
              "Find your scent"),
    _category("fashion", "fashion, lifestyle",
              "fashion, dress, jacket, coat, apparel, clothing, clothes, shoes, boots, sunglasses, hoodie, t-shirt, "
              "jeans, streetwear",
              "a sunlit city street", ("Made to be worn", "Style that moves with you", "Effortless every day"),
              "Shop the collection"),
    _category("sportswear", "sportswear, lifestyle",
              "sneaker, trainers, running shoe, sportswear, activewear, athletic wear, football boots, "
              "basketball shoe, leggings, running gear",
              "an urban street at dawn", ("Built for every stride", "Lighter, faster, further", "Made to move"),
              "Shop now"),
    _category("fitness", "fitness, sportswear",
              "fitness, gym, workout, yoga, yoga mat, dumbbell, kettlebell, treadmill, exercise bike, "
              "protein powder, protein bar",
              "a bright gym studio", ("Train with purpose", "Stronger every session", "Progress you can feel"),
              "Start today"),
    _category("wearables", "tech, fitness, sportswear",
              "fitness tracker, activity tracker, smartwatch, smart watch, smart ring",
              "a city running track", ("Know every beat", "Insights on your wrist", "Built for all-day wear"),
              "Shop now"),
    _category("energy_drinks", "energy_drinks, sportswear",
              "energy drink, sports drink, energy shot, electrolyte drink",
              "a neon-lit skate park", ("Instant lift", "Fuel for the next level", "Zero crash"), "Grab yours"),
    _category("food_beverage", "lifestyle, home",
              "coffee, espresso, tea, juice, soda, lemonade, beer, wine, chocolate, snack, cereal, pizza, burger, "
              "restaurant, bakery, ice cream, sparkling water",
              "a cosy sunlit café", ("Made with care", "Your everyday ritual", "Taste the difference"),
              "Find it near you"),
    _category("beauty", "beauty",
              "skincare, skin care, serum, moisturiser, moisturizer, face cream, lipstick, makeup, mascara, "
              "shampoo, conditioner, cosmetics, sunscreen, face mask, nail polish, hair care",
              "a bright marble bathroom", ("Visibly radiant skin", "Clean, gentle formula", "Glow from day one"),
              "Shop now"),
    _category("tech", "tech",
              "smartphone, phone, laptop, headphone, earbuds, speaker, camera, tablet, drone, gadget, console, "
              "television, monitor, keyboard, vr headset, smart speaker, charger, e-reader",
              "a clean modern desk", ("Power in your hands", "Designed to simplify", "Performance that keeps up"),
              "Shop now"),
    _category("software", "tech",
              "app, saas, software, platform, crm, dashboard, web app, mobile app, ai assistant, plugin",
              "a bright modern office", ("Work smarter, not longer", "Everything in one place", "Set up in minutes"),
              "Start your free trial"),
    _category("finance", "tech, family",
              "bank, banking, credit card, investment, investing, fintech, mortgage, loan, savings account, budgeting",
              "a bright city apartment", ("Money made simple", "Your goals, on track", "Secure by design"),
              "Open an account"),
    _category("insurance", "family, home",
              "insurance, insurer, life cover, car insurance, home insurance, health insurance, pension",
              "a warm family home", ("There when it matters", "Protect what you love", "Peace of mind, covered"),
              "Get a quote"),
    _category("automotive", "automotive",
              "car, sports car, suv, electric vehicle, ev, truck, pickup, motorcycle, sedan, hatchback",
              "a winding coastal road", ("Engineered to thrill", "Every journey, elevated", "Power meets control"),
              "Book a test drive"),
    _category("appliances", "appliances, home",
              "vacuum cleaner, vacuum, robot vacuum, blender, dishwasher, washing machine, air fryer, coffee machine, "
              "coffee maker, espresso machine, fridge, refrigerator, microwave, kettle, toaster, air purifier",
              "a modern kitchen", ("Less effort, better results", "Smart, quiet, powerful", "Time back in your day"),
              "Shop now"),
    _category("home", "home, lifestyle",
              "furniture, sofa, couch, mattress, candle, home decor, bedding, lamp, rug, cookware",
              "a cosy living room", ("Comfort you can feel", "Made for real homes", "Rest, reimagined"), "Shop now"),
    _category("healthcare", "healthcare, family",
              "clinic, pharmacy, vitamin, supplement, hospital, dentist, dental, telehealth, health, wellness",
              "a calm, light-filled clinic", ("Care that listens", "Feel like yourself again", "Health made simple"),
              "Book an appointment"),
    _category("family", "family, home", "family, kids, baby, toddler, toy, diaper, stroller",
              "a warm family home", ("Made for little moments", "Safe, simple, loved", "Grow together"),
              "Learn more"),
    _category("nonprofit", "nonprofit, family",
              "nonprofit, non-profit, charity, donation, fundraiser, fundraising, ngo, volunteer",
              "a lively community centre", ("Every gift changes a life", "Together we go further",
                                            "Hope you can see"), "Donate today"),
    _category("travel", "lifestyle", "hotel, resort, airline, flight, travel, vacation, holiday, cruise, spa, getaway",
              "a seaside resort at sunset",
              ("Arrive and unwind", "Stay somewhere unforgettable", "Every detail, handled"),
              "Book your stay"),
    _category("pets", "pets, family, home", "pet food, dog food, cat food, pet, dog, cat, puppy, kitten",
              "a sunny backyard", ("Nutrition they love", "Happy, healthy, home", "Made for best friends"),
              "Shop now"),
    _category("outdoor", "sportswear, lifestyle",
              "tent, backpack, hiking boots, camping, hiking, bicycle, bike, e-bike, kayak, surfboard, skateboard, ski",
              "a mountain trail at sunrise", ("Built for the wild", "Go further outside", "Ready for anything"),
              "Gear up now"),
    _category(GENERAL_CATEGORY, "", "", "a clean, softly lit studio",
              ("Made to make a difference", "Quality you can see", "Designed around you"), "Learn more"),
)
# fmt: on

CATEGORIES: Mapping[str, Category] = MappingProxyType({c.category_id: c for c in _CATEGORIES})


def _keyword_pattern(keyword: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in keyword.split()]
    return re.compile(r"(?<![\w-])" + r"[\s-]+".join(words) + r"(?:s|es)?(?![\w-])", re.IGNORECASE)


_KEYWORDS: tuple[tuple[str, re.Pattern[str], str], ...] = tuple(
    sorted(
        ((k, _keyword_pattern(k), c.category_id) for c in _CATEGORIES for k in c.keywords),
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
# Moods and colours


@dataclass(frozen=True)
class Mood:
    mood_id: str
    words: tuple[str, ...]
    lighting: str


# fmt: off
MOODS: Mapping[str, Mood] = MappingProxyType(
    {
        m.mood_id: m
        for m in (
            Mood("luxurious", ("luxury", "luxurious", "premium", "elegant", "sophisticated", "exclusive", "high-end",
                               "refined", "opulent", "classy", "timeless"), "low-key sculpted lighting"),
            Mood("energetic", ("energetic", "dynamic", "bold", "vibrant", "exciting", "fast", "powerful", "intense",
                               "punchy", "hype", "upbeat", "sporty", "adrenaline"), "high-contrast daylight"),
            Mood("minimal", ("minimal", "minimalist", "clean", "simple", "sleek", "modern", "understated", "crisp"),
                 "soft diffused daylight"),
            Mood("warm", ("warm", "heartfelt", "emotional", "touching", "cozy", "cosy", "nostalgic", "tender",
                          "heartwarming", "human", "authentic"), "golden-hour light"),
            Mood("calm", ("calm", "serene", "peaceful", "relaxing", "tranquil", "soothing", "mindful", "gentle", "zen"),
                 "soft morning light"),
            Mood("informative", ("informative", "clear", "professional", "explainer", "educational", "trustworthy",
                                 "practical"), "bright even studio light"),
            Mood("playful", ("playful", "fun", "quirky", "cheerful", "whimsical", "joyful", "colourful", "colorful"),
                 "bright saturated light"),
            Mood("dramatic", ("dramatic", "cinematic", "moody", "dark", "mysterious", "epic"), "moody chiaroscuro"),
        )
    }
)
# fmt: on
_MOOD_WORDS: Mapping[str, str] = MappingProxyType({w: m.mood_id for m in MOODS.values() for w in m.words})
_WORD = re.compile(r"[\w'-]+")

# fmt: off
COLOURS: Mapping[str, str] = MappingProxyType(
    {
        "rose gold": "#B76E79", "navy blue": "#1F2A44", "sky blue": "#87CEEB", "royal blue": "#4169E1",
        "forest green": "#228B22", "mint green": "#98FF98", "off-white": "#F8F6F0", "off white": "#F8F6F0",
        "black": "#000000", "white": "#FFFFFF", "red": "#D62828", "green": "#2A9D4B", "blue": "#1E5AA8",
        "yellow": "#F4D03F", "orange": "#F77F00", "purple": "#6A3FA0", "violet": "#7F00FF", "pink": "#F4A6C1",
        "brown": "#6F4E37", "grey": "#808080", "gray": "#808080", "silver": "#C0C0C0", "gold": "#D4AF37",
        "golden": "#D4AF37", "beige": "#E8DCC4", "cream": "#FFFDD0", "ivory": "#FFFFF0", "navy": "#1F2A44",
        "teal": "#008080", "turquoise": "#40E0D0", "cyan": "#00B7EB", "magenta": "#FF00A0", "maroon": "#800000",
        "burgundy": "#800020", "olive": "#708238", "lime": "#9ACD32", "coral": "#FF7F50", "peach": "#FFCBA4",
        "lavender": "#B57EDC", "charcoal": "#36454F", "bronze": "#CD7F32", "copper": "#B87333", "emerald": "#50C878",
        "sage": "#9CAF88", "tan": "#D2B48C", "indigo": "#3F3D99", "crimson": "#DC143C", "champagne": "#F7E7CE",
    }
)
# fmt: on
_COLOUR_PATTERN = re.compile(
    r"(?<![\w])(?:(?P<hex>#[0-9a-f]{6})(?![0-9a-f])|(?P<name>"
    + "|".join(re.escape(n).replace(r"\ ", r"\s+") for n in sorted(COLOURS, key=len, reverse=True))
    + r"))(?![\w])",
    re.IGNORECASE,
)

# Fixed phrases that name a colour without asking for it.
_NOT_COLOURS = re.compile(r"\b(?:black\s+friday|white\s+paper|red\s+carpet|green\s+light)\b", re.IGNORECASE)

# ---------------------------------------------------------------------------------------------
# Brand, call to action, setting (the duration is read by adgen_kernel.durations, which the gateway
# shares)

_CAPITALISED = r"[A-Z0-9][\w&'’.+-]*"
_BRAND_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(rf"\b(?:called|named|brand(?:ed)?)\s+[\"“']?({_CAPITALISED}(?:\s+{_CAPITALISED}){{0,2}})"),
    re.compile(rf"\b(?:by|from)\s+({_CAPITALISED}(?:\s+{_CAPITALISED}){{0,2}})"),
    re.compile(rf"\bfor\s+(?:(?:a|an|the|our|their)\s+)?({_CAPITALISED}(?:\s+{_CAPITALISED}){{0,2}})"),
    re.compile(r"\b([A-Z][\w&.+-]*)['’]s\b"),
)
# Capitalised words that are not brands: seasons, occasions, platforms, pronouns.
_NOT_BRANDS = frozenset(
    "i a an the our my we you it this that christmas easter halloween black friday cyber monday mother father "
    "valentine valentines summer winter spring autumn fall today tomorrow instagram tiktok youtube facebook "
    "twitter linkedin gen z millennials new year day make create generate".split()
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

# fmt: off
_PLACES = (
    "city", "street", "streets", "rooftop", "beach", "coast", "ocean", "sea", "mountain", "mountains", "forest",
    "desert", "park", "gym", "studio", "kitchen", "living room", "bedroom", "bathroom", "office", "café", "cafe",
    "restaurant", "bar", "track", "stadium", "court", "field", "road", "highway", "garage", "lake", "river",
    "countryside", "farm", "garden", "backyard", "home", "house", "apartment", "loft", "hotel", "resort", "pool",
    "spa", "runway", "stage", "club", "subway", "skate park", "trail", "campsite", "snow", "jungle", "island",
    "airport", "classroom", "library", "lab", "laboratory", "clinic", "hospital", "warehouse", "market",
)
# fmt: on
_PLACE = "(?:" + "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in _PLACES) + ")"
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
_DETERMINERS = frozenset("a an the our my your their his her its this these some new brand-new".split())
_FILLER = frozenset(
    "make create generate produce give me i we want need please short quick an a the ad ads advert commercial "
    "video spot promo".split()
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
    words = [w.lower() for w in _WORD.findall(text)]
    style_words: list[str] = []
    counts: dict[str, list[int]] = {}
    for position, word in enumerate(words):
        mood = _MOOD_WORDS.get(word)
        if mood is None:
            continue
        if word not in style_words:
            style_words.append(word)
        counts.setdefault(mood, [0, position])[0] += 1
    ranked = sorted(counts, key=lambda m: (-counts[m][0], counts[m][1]))
    return tuple(ranked), tuple(style_words)


def mood_of(word: str) -> str:
    """The mood id a style word evokes ("premium" → "luxurious")."""
    return _MOOD_WORDS[word.lower()]


def _is_known_word(token: str) -> bool:
    word = token.lower().strip("'’.")
    return (
        word in _NOT_BRANDS
        or word in _MOOD_WORDS
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
    words = _strip_leading(phrase.split(), _DETERMINERS | _FILLER)
    if brand:
        brand_words = brand.lower().split()
        if [_POSSESSIVE.sub("", w.lower()) for w in words[: len(brand_words)]] == brand_words:
            words = _strip_leading(words[len(brand_words) :], _DETERMINERS)
    if drop_moods:
        kept = _strip_leading(words, frozenset(_MOOD_WORDS) | _DETERMINERS | _FILLER)
        words = kept or words
    while words and words[-1].lower() in _FILLER | _DETERMINERS:
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

    Only the first MAX_PROMPT_CHARS characters are read: an ad brief is a sentence or two, and the
    bound keeps the patterns' cost small whatever is sent.
    """
    text = sanitise(prompt[:MAX_PROMPT_CHARS])
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
