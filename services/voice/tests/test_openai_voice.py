"""OpenAI speech through the real SDK against the local fake: the audio, the price, and the faults
the call helper rides out (429 with Retry-After, 5xx, an answer held past the timeout)."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest
from fakes.openai_api import FakeOpenAI, Reply, fake_openai, rate_limited, server_error, slow

from adgen_voice.openai_voice import OpenAiVoiceConfig, OpenAiVoices
from adgen_voice.tts_prices import USD_MICROS_PER_CHAR

LINE = "Built for the long run. Light, quick, and ready."
OK = Reply()


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAI]:
    with fake_openai() as running:
        yield running


def voices(server: FakeOpenAI, *, timeout_s: float = 2.0, max_attempts: int = 3) -> OpenAiVoices:
    return OpenAiVoices(
        OpenAiVoiceConfig(
            api_key="sk-test",
            base_url=server.base_url,
            model="tts-1",
            timeout_s=timeout_s,
            max_attempts=max_attempts,
            max_in_flight=2,
        )
    )


async def test_a_line_is_spoken_priced_per_character_and_word_timed(server: FakeOpenAI) -> None:
    server.script(OK)
    speech = await voices(server).speak(LINE, "openai-nova", 1.0)
    [request] = server.requests
    assert request.body["model"] == "tts-1"
    assert request.body["voice"] == "nova"
    assert request.body["input"] == LINE
    assert request.body["response_format"] == "pcm"
    assert speech.usd_micros == USD_MICROS_PER_CHAR["tts-1"] * len(LINE)
    assert (speech.provider, speech.model) == ("openai", "tts-1")
    assert [w.text for w in speech.words] == LINE.split()
    assert all(a.end_s <= b.start_s for a, b in zip(speech.words, speech.words[1:], strict=False))
    assert 0 <= speech.words[0].start_s and speech.words[-1].end_s <= speech.duration_s
    # The fake's tones start 0.06 s in; the first word is found there, not at 0.
    assert speech.words[0].start_s == pytest.approx(0.06, abs=0.02)


async def test_the_rate_is_sent_as_speed(server: FakeOpenAI) -> None:
    server.script(OK)
    await voices(server).speak(LINE, "openai-alloy", 1.1)
    assert server.requests[0].body["speed"] == pytest.approx(1.1)


async def test_a_429_is_retried_after_the_wait_it_asks_for(server: FakeOpenAI) -> None:
    server.script(rate_limited(0.5), OK)
    speech = await voices(server).speak(LINE, "openai-alloy", 1.0)
    failed, retried = server.requests
    assert retried.at - failed.at >= 0.45, "the retry came before the Retry-After"
    assert server.answered and speech.samples.size


async def test_a_server_error_is_retried(server: FakeOpenAI) -> None:
    before = server.answered
    server.script(server_error(503), OK)
    await voices(server).speak(LINE, "openai-alloy", 1.0)
    assert len(server.requests) == 2
    assert server.answered == before + 1


async def test_an_answer_held_past_the_timeout_is_abandoned_and_retried(server: FakeOpenAI) -> None:
    server.script(slow(1.5, OK), OK)
    speech = await voices(server, timeout_s=0.5).speak(LINE, "openai-alloy", 1.0)
    held, retried = server.requests
    assert retried.at - held.at >= 0.45, "the retry came before the first attempt timed out"
    assert speech.samples.size


async def test_faults_past_the_last_attempt_fail_the_line(server: FakeOpenAI) -> None:
    server.script(server_error(500), server_error(502))
    with pytest.raises(openai.InternalServerError):
        await voices(server, max_attempts=2).speak(LINE, "openai-alloy", 1.0)
    assert len(server.requests) == 2


def test_an_unpriced_model_fails_at_start(server: FakeOpenAI) -> None:
    with pytest.raises(KeyError, match="no price"):
        OpenAiVoices(
            OpenAiVoiceConfig("sk-test", server.base_url, "tts-9", timeout_s=1, max_attempts=1, max_in_flight=1)
        )
