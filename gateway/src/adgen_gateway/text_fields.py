"""Which strings a request may carry: valid Unicode, and, for short one-line fields, no control
characters.

JSON can spell a lone UTF-16 surrogate (`"\\ud800"`) that Python keeps in a `str` but that has no
UTF-8 encoding: it would fail at the first protobuf or database write, long after validation. It is
refused here, naming the field, like any other invalid value. Emoji, right-to-left text, zero-width
joiners and bidi marks are ordinary text and pass.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator


def _encodable(text: str) -> str:
    try:
        text.encode()
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (it holds a lone surrogate)") from None
    return text


def _one_line(text: str) -> str:
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise ValueError("must not contain control characters")
    return text


# Free text whose other limits are checked elsewhere (the prompt: adgen_video.request_limits).
UnicodeText = Annotated[str, AfterValidator(_encodable)]
# Names and search text.
OneLineText = Annotated[str, AfterValidator(_encodable), AfterValidator(_one_line)]
