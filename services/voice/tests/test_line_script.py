"""What of a line a voice can say: emoji left out, a script the voice does not read named."""

from __future__ import annotations

import pytest

from adgen_voice.line_script import foreign_script, without_pictographs


def test_emoji_and_their_joiners_are_left_out_and_the_words_kept() -> None:
    assert without_pictographs("Fresh ☕ coffee 👩🏽‍🍳 every ❤️ morning.") == "Fresh coffee every morning."
    assert without_pictographs("☕🎉") == ""
    assert without_pictographs("Café crème, 100 % arabica.") == "Café crème, 100 % arabica."


@pytest.mark.parametrize(
    ("text", "script"),
    [("每天早上的咖啡", "Cjk"), ("Кофе каждое утро", "Cyrillic"), ("قهوة كل صباح", "Arabic"), ("コーヒー", "Katakana")],
)
def test_a_line_mostly_in_another_script_is_named(text: str, script: str) -> None:
    assert foreign_script(text, ("LATIN",)) == script


def test_latin_lines_accents_and_a_few_foreign_words_read() -> None:
    assert foreign_script("Crème brûlée, à la carte.", ("LATIN",)) is None
    assert foreign_script("Order the Morning Roast espresso, 咖啡 lovers.", ("LATIN",)) is None
    assert foreign_script("100 %", ("LATIN",)) is None  # no letters at all
    assert foreign_script("每天早上的咖啡", ()) is None  # a voice that reads any script
