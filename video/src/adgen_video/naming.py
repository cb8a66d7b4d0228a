"""How an ad names what it sells, wherever it shows the name.

The planner keeps `spec.product_name` as the prompt wrote it ("matte-black titanium watch"). Where
the ad shows a name (a headline, the studio's wordmark, the end card) it is set as a name: every
all-lowercase word capitalised, words such as "iPhone" or "SaaS" left as they are written. A prompt
that names no product gets the placeholder below, which is no name to show.
"""

from __future__ import annotations

UNNAMED_PRODUCT = "the product"


def as_name(text: str) -> str:
    """`text` set as a name: "matte-black titanium watch" → "Matte-black Titanium Watch"."""
    return " ".join(word[:1].upper() + word[1:] if word.islower() else word for word in text.split())


def shown_name(brand: str, product_name: str) -> str:
    """The name the ad shows: the brand, else the product's name, set as a name; "" when there is
    neither (the placeholder of an unnamed product counts as none)."""
    name = " ".join(brand.split()) or " ".join(product_name.split())
    return "" if name.lower() == UNNAMED_PRODUCT else as_name(name)
