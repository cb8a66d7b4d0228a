"""Finding a paid Replicate prediction again by the tag its create carried.

Replicate's API has no idempotency key and its SDK does not retry a create, so a create whose answer
was lost (a timeout, a dropped connection, a 5xx) may still have started a prediction we pay for.
Every create therefore carries a tag (an extra input the models ignore: the unit it renders), and a
lost create is looked up among the recent predictions before anything is posted again. Used by the
storyboard's images, the chunks' clips and refine's music bed; the prediction states are Replicate's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

TAG_INPUT = "adgen_tag"
PREDICTION_TERMINAL_STATUSES = ("succeeded", "failed", "canceled")
UNSUCCESSFUL = ("failed", "canceled")
# How far back a lost create is looked for: Replicate lists newest first, 100 a page.
RECONCILE_PAGES = 5


async def find_by_tag(list_page: Callable[[Any], Awaitable[Any]], tag: str) -> Any | None:
    """The newest prediction carrying `tag` that has not failed or been canceled, among the recent
    ones; `list_page(cursor)` fetches one page of predictions (`...` asks for the first)."""
    cursor: Any = ...
    for _ in range(RECONCILE_PAGES):
        page = await list_page(cursor)
        for prediction in page.results:
            if (prediction.input or {}).get(TAG_INPUT) == tag and prediction.status not in UNSUCCESSFUL:
                return prediction
        if not page.next:
            return None
        cursor = page.next
    return None
