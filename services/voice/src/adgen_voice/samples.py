"""Each voice's sample: one fixed sentence spoken at the voice's own pace, for people choosing a voice.

A sample is made the first time it is asked for and kept at the voice's fixed key
(`voices/samples/<key>.wav`), so every later ask is one HEAD. It belongs to no video and no user:
it has no ledger row, and nothing else is ever written for it, so there is nothing to clean up.
Within a process one lock per voice makes concurrent first asks speak it once; across replicas two
first asks may both speak it, and each PUT replaces the whole object, so a reader sees one complete
WAV or the other, never a part.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

from adgen_kernel.errors import NotFound
from adgen_kernel.storage import ObjectStore
from adgen_voice.speech import VoiceProvider, wav_bytes

SAMPLE_TEXT = "Hello! This is the voice that will tell your customers about your product."


def sample_key(voice: str) -> str:
    return f"voices/samples/{voice}.wav"


class VoiceSamples:
    def __init__(self, store: ObjectStore, providers: list[VoiceProvider]) -> None:
        self._store = store
        self._by_voice = {v.key: p for p in providers for v in p.voices()}
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def sample(self, voice: str) -> str:
        """The stored sample's key, speaking it first if it is not stored yet."""
        provider = self._by_voice.get(voice)
        if provider is None:
            raise NotFound(f"voice {voice[:64]!r} not found; known: {', '.join(sorted(self._by_voice))}")
        key = sample_key(voice)
        async with self._locks[voice]:
            if not await self._store.exists(key):
                speech = await provider.speak(SAMPLE_TEXT, voice, 1.0)
                await self._store.put_bytes(key, wav_bytes(speech.samples), "audio/wav")
        return key
