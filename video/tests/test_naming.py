"""The name an ad shows: set as a name, the brand first, the placeholder never."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from adgen_video.naming import UNNAMED_PRODUCT, as_name, shown_name


def test_a_prompts_words_are_set_as_a_name() -> None:
    assert as_name("matte-black  titanium watch") == "Matte-black Titanium Watch"
    assert as_name("new iPhone case by SaaS co") == "New iPhone Case By SaaS Co"


def test_the_brand_comes_first_and_the_placeholder_is_no_name() -> None:
    assert shown_name("Aurum", "titanium watch") == "Aurum"
    assert shown_name(" ", "titanium watch") == "Titanium Watch"
    assert shown_name("", UNNAMED_PRODUCT) == ""
    assert shown_name("", "") == ""


@given(st.text(alphabet=st.characters(codec="ascii"), max_size=40))
def test_setting_a_name_keeps_its_words_and_is_idempotent(text: str) -> None:
    named = as_name(text)
    assert named.lower().split() == text.lower().split()
    assert as_name(named) == named
