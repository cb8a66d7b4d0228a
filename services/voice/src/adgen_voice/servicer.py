from __future__ import annotations

import grpc

from adgen.voice.v1 import voice_service_pb2, voice_service_pb2_grpc
from adgen_kernel.errors import InvalidArgument
from adgen_voice.samples import SAMPLE_TEXT, VoiceSamples
from adgen_voice.worker import Voice


class VoiceServicer(voice_service_pb2_grpc.VoiceServiceServicer):
    def __init__(self, voice: Voice, samples: VoiceSamples) -> None:
        self._voice = voice
        self._samples = samples

    async def Synthesize(
        self, request: voice_service_pb2.SynthesizeRequest, context: grpc.aio.ServicerContext
    ) -> voice_service_pb2.SynthesizeResponse:
        if not request.target_s > 0:
            raise InvalidArgument(f"target_s: a line needs a beat longer than 0 s, not {request.target_s:g}")
        line = await self._voice.synthesize(
            request.video_id, request.user_id, request.beat_index, request.text, request.voice, request.target_s
        )
        return voice_service_pb2.SynthesizeResponse(
            audio_key=line.audio_key,
            duration_s=line.duration_s,
            speaking_rate=line.speaking_rate,
            words=[voice_service_pb2.Word(text=w.text, start_s=w.start_s, end_s=w.end_s) for w in line.words],
            provider=line.provider,
            model=line.model,
            usd_micros=line.usd_micros,
        )

    async def ListVoices(
        self, request: voice_service_pb2.ListVoicesRequest, context: grpc.aio.ServicerContext
    ) -> voice_service_pb2.ListVoicesResponse:
        return voice_service_pb2.ListVoicesResponse(
            voices=[
                voice_service_pb2.Voice(
                    key=v.key,
                    provider=v.provider,
                    language=v.language,
                    label=v.label,
                    model=v.model,
                    usd_micros_per_char=v.usd_micros_per_char,
                )
                for v in self._voice.voices()
            ],
            default_voice=self._voice.default_voice,
        )

    async def GetVoiceSample(
        self, request: voice_service_pb2.GetVoiceSampleRequest, context: grpc.aio.ServicerContext
    ) -> voice_service_pb2.GetVoiceSampleResponse:
        key = await self._samples.sample(request.voice)
        return voice_service_pb2.GetVoiceSampleResponse(audio_key=key, text=SAMPLE_TEXT)
