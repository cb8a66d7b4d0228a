"""OpenAI text-to-speech (`audio.speech.create` through the `openai` SDK), used when
`ADGEN_OPENAI_API_KEY` is set.

Each call goes through the providers' call helper (`adgen_providers.provider_calls`): a slot per
model, retries of 429 (honouring Retry-After), 5xx, dropped connections and timeouts, one span per
attempt. The SDK's own retries are off so that exactly one policy applies. Audio is asked for as
raw PCM (24 kHz, 16-bit mono: no container to parse) and the rate as OpenAI's `speed`. OpenAI
returns no word timings, so they are read from the audio (`word_alignment`). The price is the
registry's per-character figure (`tts_prices`).
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import numpy as np
import openai

from adgen_providers.provider_calls import ProviderCalls, RateLimited, RetryPolicy, retry_after_seconds
from adgen_voice.speech import SAMPLE_RATE, Speech, VoiceInfo, to_mix_rate
from adgen_voice.tts_prices import USD_MICROS_PER_CHAR, price_micros
from adgen_voice.word_alignment import align_words

PCM_RATE = 24_000  # OpenAI's "pcm" response format
# The voices OpenAI's speech endpoint offers for every TTS model.
OPENAI_VOICES = ("alloy", "ash", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer")


@dataclass(frozen=True)
class OpenAiVoiceConfig:
    api_key: str
    base_url: str | None
    model: str
    timeout_s: float
    max_attempts: int
    max_in_flight: int


class OpenAiVoices:
    name = "openai"

    def __init__(self, config: OpenAiVoiceConfig) -> None:
        price_micros(config.model, "")  # an unpriced model fails at start, not on the first line
        self._config = config
        self._client = openai.AsyncOpenAI(
            api_key=config.api_key, base_url=config.base_url, timeout=config.timeout_s, max_retries=0
        )
        self._calls = ProviderCalls(
            self.name, RetryPolicy(max_attempts=config.max_attempts), concurrency=config.max_in_flight
        )
        self.model = config.model

    def voices(self) -> list[VoiceInfo]:
        per_char = USD_MICROS_PER_CHAR[self.model]
        return [
            VoiceInfo(f"openai-{v}", self.name, "en-US", f"OpenAI {v}", self.model, per_char) for v in OPENAI_VOICES
        ]

    async def _create(self, text: str, voice: str, rate: float) -> bytes:
        try:
            response = await self._client.audio.speech.create(
                model=self.model, voice=voice, input=text, response_format="pcm", speed=rate
            )
        except openai.RateLimitError as error:
            raise RateLimited(retry_after_seconds(error.response.headers.get("retry-after"))) from error
        except openai.APITimeoutError as error:
            raise TimeoutError(f"OpenAI speech did not answer within {self._config.timeout_s} s") from error
        except openai.APIConnectionError as error:
            raise httpx.ConnectError(str(error)) from error
        return response.content

    async def speak(self, text: str, voice: str, rate: float) -> Speech:
        name = voice.removeprefix("openai-")
        async with self._calls.call(self.model, "speech") as call:
            pcm = await call.request("speech", lambda: self._create(text, name, rate))
            usd_micros = price_micros(self.model, text)
            call.billed(usd_micros)
        audio = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").astype(np.float32) / 32768
        samples = to_mix_rate(audio, PCM_RATE)
        return Speech(samples, align_words(text, samples, SAMPLE_RATE), rate, self.name, self.model, usd_micros)

    async def aclose(self) -> None:
        await self._client.close()
