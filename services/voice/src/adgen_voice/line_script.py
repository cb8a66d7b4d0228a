"""What of a line a voice can say: pictographs are left out, and a line in a script the voice does not
read is refused rather than spelled out.

* **Pictographs** (emoji, dingbats, other symbols: Unicode category So, and the joiners and
  variation selectors that build emoji sequences) are not words: a voice reads them as their names
  or as noise. They are left out of what is spoken; the captions follow the spoken words.
* **Scripts.** A voice reads the scripts of its language: Piper's en_US voice reads Latin letters
  and spells anything else out letter by letter through its phonemiser. A line whose letters are
  mostly in another script (Han, Cyrillic, Arabic, …) is the caller's error for that voice, named
  with the script, not a minute of letter names. A voice with no scripts listed reads any.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Collection

_JOINERS = {"\u200d", "\ufe0e", "\ufe0f", "\u20e3"}


def without_pictographs(text: str) -> str:
    """`text` without emoji and other pictographs, its spaces collapsed."""
    kept = "".join(
        " " if unicodedata.category(ch) == "So" or ch in _JOINERS or 0x1F3FB <= ord(ch) <= 0x1F3FF else ch
        for ch in text
    )
    return " ".join(kept.split())


def script_of(ch: str) -> str:
    """The script of a letter, as the first word of its Unicode name ("LATIN", "CJK", "CYRILLIC")."""
    name = unicodedata.name(ch, "")
    return name.split(" ", 1)[0] if name else "UNKNOWN"


def foreign_script(text: str, scripts: Collection[str]) -> str | None:
    """The script most of the line's letters are in when it is none of `scripts` (None when the
    line reads in them, has no letters, or `scripts` is empty: any script)."""
    letters = [script_of(ch) for ch in text if ch.isalpha()]
    if not scripts or not letters:
        return None
    counts = Counter(letters)
    ours = sum(n for script, n in counts.items() if script in scripts)
    if ours * 2 >= len(letters):
        return None
    return max((s for s in counts if s not in scripts), key=lambda s: counts[s]).title()
