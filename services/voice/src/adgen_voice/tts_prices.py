"""What a text-to-speech call costs, in micro-USD per character of input.

Source: OpenAI's API pricing page (platform.openai.com/docs/pricing, "Transcription and speech
generation"): tts-1 $15.00 and tts-1-hd $30.00 per 1M characters. gpt-4o-mini-tts is billed by
tokens and priced there at an estimated $0.015 per minute of audio; at the planner's pace (2.6
words/s, about 15 characters a second with spaces) that is 16.7 µUSD a character, rounded up to 17.
"""

from __future__ import annotations

USD_MICROS_PER_CHAR = {
    "tts-1": 15,
    "tts-1-hd": 30,
    "gpt-4o-mini-tts": 17,
}


def price_micros(model: str, text: str) -> int:
    """The price of speaking `text` with `model`; a model missing here is a configuration error."""
    if model not in USD_MICROS_PER_CHAR:
        raise KeyError(f"no price for TTS model {model!r}; known: {sorted(USD_MICROS_PER_CHAR)}")
    return USD_MICROS_PER_CHAR[model] * len(text)
