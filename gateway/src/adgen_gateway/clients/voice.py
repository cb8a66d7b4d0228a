"""The gateway's client of the voice service: the voices a request may name, and their samples.

Both change only when the voice service is redeployed, so they are kept for a minute: creating a
video checks its voice against the kept list rather than asking the service each time, and listing
the voices asks for each sample once a minute (one HEAD in the service once it exists)."""

from __future__ import annotations

import asyncio
import time

import grpc

from adgen.voice.v1 import voice_service_pb2, voice_service_pb2_grpc
from adgen_kernel.logs import get_logger
from adgen_kernel.serve import grpc_channel

log = get_logger(__name__)

CACHE_S = 60.0
TIMEOUT_S = 10.0
# Speaking a sample the first time is one provider call (Piper: about a second on a small CPU).
SAMPLE_TIMEOUT_S = 60.0


class VoiceClient:
    def __init__(self, address: str) -> None:
        self.channel = grpc_channel(address)
        self._stub = voice_service_pb2_grpc.VoiceServiceStub(self.channel)
        self._listed: tuple[float, voice_service_pb2.ListVoicesResponse] | None = None
        self._samples: dict[str, tuple[float, str]] = {}

    async def voices(self) -> voice_service_pb2.ListVoicesResponse:
        if self._listed is None or time.monotonic() - self._listed[0] > CACHE_S:
            response = await self._stub.ListVoices(voice_service_pb2.ListVoicesRequest(), timeout=TIMEOUT_S)
            self._listed = (time.monotonic(), response)
        return self._listed[1]

    async def keys(self) -> list[str]:
        return sorted(v.key for v in (await self.voices()).voices)

    async def sample_key(self, voice: str) -> str:
        """The stored sample of `voice`, made on the service's first ask; NOT_FOUND for an unknown voice."""
        kept = self._samples.get(voice)
        if kept is None or time.monotonic() - kept[0] > CACHE_S:
            response = await self._stub.GetVoiceSample(
                voice_service_pb2.GetVoiceSampleRequest(voice=voice), timeout=SAMPLE_TIMEOUT_S
            )
            kept = self._samples[voice] = (time.monotonic(), response.audio_key)
        return kept[1]

    async def sample_keys(self, voices: list[str]) -> dict[str, str | None]:
        """Each voice's sample key, None for one the service could not make now (the rest still answer)."""

        async def one(voice: str) -> str | None:
            try:
                return await self.sample_key(voice)
            except grpc.aio.AioRpcError as error:
                log.warning("no voice sample", voice=voice, code=str(error.code()), details=error.details())
                return None

        return dict(zip(voices, await asyncio.gather(*(one(v) for v in voices)), strict=True))
