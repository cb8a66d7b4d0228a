"""A video's budget cap (`VideoRequest.max_cost_micros`, REST `max_cost_usd`): the two decisions.

At creation, a cap below the plan's quote is refused: the video could not finish within it. While
the video renders, each paid unit (a storyboard image, a clip, the MusicGen track) reserves its
price right before its provider call (`video_state.reserve_budget`); a unit is refused when what is
already committed (the ledger, plus the reservations of units still running) and its own price would
exceed the cap. A refused unit fails the video with the reason, except the music, whose refusal means
the synthesised bed plays instead (a free fallback). Pure: money is integer micro-dollars.
"""

from __future__ import annotations

from adgen_kernel.errors import FailedPrecondition


class BudgetExceeded(FailedPrecondition):
    """The next paid unit would take the video over its cap. Not retryable: a redelivery would be
    refused the same way; the video fails with this message as its reason."""


def usd(micros: int) -> str:
    """$0.19, $1.50, $0.025: cents always, further digits only when they are not zero."""
    whole = f"{micros / 1_000_000:.6f}".rstrip("0")
    decimals = len(whole.split(".")[1])
    return f"${micros / 1_000_000:.{max(2, decimals)}f}"


def refusal(cap_micros: int | None, committed_micros: int, price_micros: int) -> str | None:
    """Why a unit costing `price_micros` may not start, or None when it may (no cap, a free unit,
    or the committed amount plus its price stays within the cap)."""
    if cap_micros is None or price_micros <= 0 or committed_micros + price_micros <= cap_micros:
        return None
    return f"budget of {usd(cap_micros)} reached: spent {usd(committed_micros)}, next unit {usd(price_micros)}"


def quote_refusal(cap_micros: int | None, quoted_micros: int) -> str | None:
    """Why a cap cannot cover a plan quoted at `quoted_micros`, or None when it can."""
    if cap_micros is None or quoted_micros <= cap_micros:
        return None
    return f"{usd(cap_micros)} is below this video's quoted cost of {usd(quoted_micros)}; raise it or shorten the video"
