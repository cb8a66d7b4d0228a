"""The budget decisions alone: when a paid unit may start under a cap, and when a cap covers a quote."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from adgen_video.budget import quote_refusal, refusal, usd

money = st.integers(min_value=0, max_value=10**12)


def test_dollars_show_cents_and_only_the_digits_that_matter() -> None:
    assert [usd(m) for m in (0, 190_000, 1_500_000, 25_000, 475_000, 1)] == [
        "$0.00",
        "$0.19",
        "$1.50",
        "$0.025",
        "$0.475",
        "$0.000001",
    ]


def test_the_reason_says_the_cap_the_spend_and_the_next_unit() -> None:
    assert refusal(500_000, 380_000, 190_000) == "budget of $0.50 reached: spent $0.38, next unit $0.19"
    assert refusal(570_000, 380_000, 190_000) is None  # exactly the cap is within it
    assert refusal(None, 10**12, 10**12) is None  # no cap
    assert quote_refusal(100_000, 1_025_000) == (
        "$0.10 is below this video's quoted cost of $1.025; raise it or shorten the video"
    )


@given(st.one_of(st.none(), money), money, money)
def test_a_unit_may_start_exactly_when_the_cap_can_take_it(cap: int | None, committed: int, price: int) -> None:
    allowed = cap is None or price == 0 or committed + price <= cap
    assert (refusal(cap, committed, price) is None) == allowed


@given(money, st.lists(st.integers(min_value=1, max_value=10**7), max_size=50))
def test_units_admitted_one_by_one_never_exceed_the_cap(cap: int, prices: list[int]) -> None:
    committed = 0
    for price in prices:
        if refusal(cap, committed, price) is None:
            committed += price
    assert committed <= cap


@given(st.one_of(st.none(), money), money)
def test_a_cap_covers_a_quote_exactly_when_it_is_at_least_the_quote(cap: int | None, quoted: int) -> None:
    assert (quote_refusal(cap, quoted) is None) == (cap is None or quoted <= cap)
