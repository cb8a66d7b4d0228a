"""The words the planner knows: product categories and the defaults each implies, moods with their
words and light, colour names, places, the words that are never a brand or a product, and the
phrases a voiceover is made of (each category's benefits as spoken, each mood's register).

Data only, in tables a reader can scan and extend; how a prompt is read with them is decided in
`prompt_reading`, how the lines are written with them in `voiceover`, and every table is read-only
once built.
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

# ---------------------------------------------------------------------------------------------
# What the voiceover says

# Each category's benefits as a voice says them, in the order of `Category.benefits`: a spoken
# sentence about the same idea as the super on screen, never its words alone. Written without "it"
# or "they", so a product of either number reads right ("the watch", "the sneakers").
# fmt: off
SPOKEN_BENEFITS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "luxury": ("Every piece is built to outlast the moment", "Every detail is finished with quiet precision",
                   "Made to be kept for a lifetime, and beyond"),
        "jewelry": ("Brilliance that stays long after the evening ends", "Every facet is finished by hand",
                    "Made to be treasured, and one day passed on"),
        "fragrance": ("A trail that no one forgets", "Notes that linger long after you leave",
                      "The scent people will know as yours"),
        "fashion": ("Made to be worn, again and again", "The cut moves the way you do",
                    "You look effortless, every single day"),
        "sportswear": ("Built to carry you through every stride", "Lighter on your feet, so you go further",
                       "Every part made to move with you"),
        "fitness": ("Every session starts with a purpose", "You come back stronger every time",
                    "Real progress you can actually feel"),
        "wearables": ("Know every beat of your day, at a glance", "The insights you need sit on your wrist",
                      "Comfortable enough to wear all day and night"),
        "energy_drinks": ("One sip and the lift is instant", "The fuel that takes you to the next level",
                          "All the energy, and none of the crash"),
        "food_beverage": ("Every batch is made with real care", "Every day becomes a small ritual",
                          "One taste and you will know the difference"),
        "beauty": ("Your skin looks radiant, and you can see it", "The formula is clean and gentle on skin",
                   "The glow shows from the very first day"),
        "tech": ("All that power fits in your hands", "Designed to make every day simpler",
                 "Fast enough to keep up with everything you do"),
        "software": ("Work smarter, and get your evenings back", "Everything your team needs lives in one place",
                     "You can be set up in minutes"),
        "finance": ("Managing money finally feels simple", "Your goals stay on track, month after month",
                    "Your money is protected by design"),
        "insurance": ("There for you when it matters most", "Protect the people and things you love",
                      "Peace of mind comes covered"),
        "automotive": ("Engineered to thrill from the very first turn", "Every journey feels a little more special",
                       "Real power, always under your control"),
        "appliances": ("Less effort from you, better results every time", "Smart and quiet, with power to spare",
                       "Get precious time back in your day"),
        "home": ("The comfort is something you feel at once", "Made for real homes and real life",
                 "Rest feels different from the very first night"),
        "healthcare": ("Here, care starts by listening to you", "Feel like yourself again, sooner",
                       "Looking after your health becomes simple"),
        "family": ("Made for the little moments that matter most", "Safe, simple, and loved by the whole family",
                   "Grow together, one day at a time"),
        "nonprofit": ("Every gift you give changes a real life", "Together, we can go so much further",
                      "Hope you can actually see, and share"),
        "travel": ("Arrive, breathe out, and unwind", "Stay somewhere you will never forget",
                   "Every detail is handled before you ask"),
        "pets": ("Nutrition they will love at every single meal", "Happy and healthy, right at home",
                 "Made for your best friend, with love"),
        "outdoor": ("Built for wherever the wild takes you", "Go further outside than ever before",
                    "Be ready for anything the trail brings"),
        GENERAL_CATEGORY: ("Made to make a real difference", "The quality is something you can see",
                           "Every detail is designed around you"),
    }
)
# fmt: on


@dataclass(frozen=True)
class Register:
    """How the voice speaks in one mood. `openings` name the product ({name}: "the Acme titanium
    watch"); `leads` and `tails` are short sentences a longer beat adds around its benefit (a tail may
    name the product again); `closings` speak the call to action ({cta}) and the name. No phrase
    agrees a verb with {name}, which may be singular or plural."""

    openings: tuple[str, ...]
    leads: tuple[str, ...]
    tails: tuple[str, ...]
    closings: tuple[str, ...]


# fmt: off
REGISTERS: Mapping[str, Register] = MappingProxyType(
    {
        "luxurious": Register(
            ("Introducing {name}.", "Discover {name}.", "Meet {name}."),
            ("Take a closer look.", "Take your time.", "Look closer."),
            ("Nothing less will do.", "Only with {name}.", "Quietly exceptional."),
            ("{cta}. {name}.", "{name}. {cta}.", "{cta}, and make {name} yours."),
        ),
        "energetic": Register(
            ("Meet {name}.", "Get ready for {name}.", "Ready? Meet {name}."),
            ("Feel that?", "Go on.", "Push harder."),
            ("Only with {name}.", "No limits.", "Nothing holds you back."),
            ("{cta}. {name}.", "{name}. {cta}!", "{cta}, and go with {name}."),
        ),
        "minimal": Register(
            ("Meet {name}.", "Introducing {name}.", "Simply, {name}."),
            ("Simply put.", "Nothing extra.", "Look again."),
            ("Only with {name}.", "Just what you need.", "Less, but better."),
            ("{name}. {cta}.", "{cta}. {name}.", "{cta}, with {name}."),
        ),
        "warm": Register(
            ("Meet {name}.", "Say hello to {name}.", "Introducing {name}."),
            ("You know the feeling.", "It is the little things.", "Picture this."),
            ("All thanks to {name}.", "Made with you in mind.", "It just feels right."),
            ("{cta}. {name}.", "{name}, for the moments that matter. {cta}.", "{cta}, and bring home {name}."),
        ),
        "calm": Register(
            ("Meet {name}.", "Introducing {name}.", "Breathe in, and meet {name}."),
            ("Slow down.", "Breathe.", "Take a moment."),
            ("Only with {name}.", "All is calm.", "Simply at ease."),
            ("{cta}. {name}.", "{name}. {cta}.", "{cta}, and rest easy with {name}."),
        ),
        "informative": Register(
            ("Meet {name}.", "Introducing {name}.", "Let us introduce {name}."),
            ("Here is how.", "Here is what that means.", "Look at the details."),
            ("All with {name}.", "It is that simple.", "Clear results, every time."),
            ("{cta}. {name}.", "{name}. {cta}.", "{cta}, and see what {name} can do."),
        ),
        "playful": Register(
            ("Say hi to {name}!", "Meet {name}!", "Guess what? Say hi to {name}!"),
            ("Ready for this?", "Here is the fun part.", "Oh, and one more thing."),
            ("All thanks to {name}!", "Go on, smile.", "Fun, right?"),
            ("{cta}! {name}.", "{name}. {cta}!", "{cta}, and have fun with {name}!"),
        ),
        "dramatic": Register(
            ("Introducing {name}.", "Now, meet {name}.", "From the dark, {name}."),
            ("Watch closely.", "Now look.", "Wait for it."),
            ("Only with {name}.", "Unforgettable.", "Nothing will be the same."),
            ("{cta}. {name}.", "{name}. {cta}.", "{cta}, and own {name}."),
        ),
    }
)
# fmt: on
# What the voice calls the product when the prompt names neither a product nor a brand.
SPOKEN_FOR_UNNAMED = "something new"
