"""The words the planner knows: product categories and the defaults each implies, moods with their
words and light, colour names, places, and the words that are never a brand or a product.

Data only, in tables a reader can scan and extend; how a prompt is read with them is decided in
`prompt_reading`, and every table is read-only once built.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

GENERAL_CATEGORY = "general"
# What counts as a word wherever prompt text is split into words.
_WORD = re.compile(r"[\w'-]+")


def words(text: str) -> list[str]:
    """The words of `text`, lower-cased, hyphens and apostrophes kept inside them."""
    return [w.lower() for w in _WORD.findall(text)]


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
MOOD_WORDS: Mapping[str, str] = MappingProxyType({w: m.mood_id for m in MOODS.values() for w in m.words})


def mood_of(word: str) -> str:
    """The mood id a style word evokes ("premium" → "luxurious")."""
    return MOOD_WORDS[word.lower()]


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

# Fixed phrases that name a colour without asking for it.
NOT_COLOURS = ("black friday", "white paper", "red carpet", "green light")

# ---------------------------------------------------------------------------------------------
# Brands, settings and product names

# Capitalised words that are not brands: seasons, occasions, platforms, pronouns.
NOT_BRANDS = frozenset(
    "i a an the our my we you it this that christmas easter halloween black friday cyber monday mother father "
    "valentine valentines summer winter spring autumn fall today tomorrow instagram tiktok youtube facebook "
    "twitter linkedin gen z millennials new year day make create generate".split()
)

# Nouns of a place: "in/on/at … <place>" names the ad's setting.
# fmt: off
PLACES = (
    "city", "street", "streets", "rooftop", "beach", "coast", "ocean", "sea", "mountain", "mountains", "forest",
    "desert", "park", "gym", "studio", "kitchen", "living room", "bedroom", "bathroom", "office", "café", "cafe",
    "restaurant", "bar", "track", "stadium", "court", "field", "road", "highway", "garage", "lake", "river",
    "countryside", "farm", "garden", "backyard", "home", "house", "apartment", "loft", "hotel", "resort", "pool",
    "spa", "runway", "stage", "club", "subway", "skate park", "trail", "campsite", "snow", "jungle", "island",
    "airport", "classroom", "library", "lab", "laboratory", "clinic", "hospital", "warehouse", "market",
)
# fmt: on

# Words trimmed off the ends of a product name ("our new watch" → "watch").
DETERMINERS = frozenset("a an the our my your their his her its this these some new brand-new".split())
FILLER = frozenset(
    "make create generate produce give me i we want need please short quick an a the ad ads advert commercial "
    "video spot promo".split()
)
