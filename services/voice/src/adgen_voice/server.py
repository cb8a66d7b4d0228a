"""adgen-voice: settings -> connections -> VoiceService + the adgen.work.voice worker."""

from __future__ import annotations

from adgen.events.v1 import events_pb2
from adgen.voice.v1 import voice_service_pb2_grpc
from adgen_kernel.jetstream import WorkHandler
from adgen_kernel.serve import Connections, ServiceApp, Servicer, run
from adgen_video.contract_rules import violations
from adgen_voice.openai_voice import OpenAiVoiceConfig, OpenAiVoices
from adgen_voice.piper_voice import DEFAULT_VOICE, PiperVoices
from adgen_voice.samples import VoiceSamples
from adgen_voice.servicer import VoiceServicer
from adgen_voice.settings import VoiceSettings
from adgen_voice.speech import VoiceProvider
from adgen_voice.worker import Voice


def voice_providers(settings: VoiceSettings) -> tuple[list[VoiceProvider], str]:
    """Piper always (offline, free); OpenAI too when a key is configured, and then its voice by default."""
    providers: list[VoiceProvider] = [PiperVoices(settings.piper_model_path)]
    if settings.openai_api_key is None:
        return providers, DEFAULT_VOICE
    config = OpenAiVoiceConfig(
        api_key=settings.openai_api_key.get_secret_value(),
        base_url=settings.openai_base_url,
        model=settings.openai_tts_model,
        timeout_s=settings.openai_tts_timeout_s,
        max_attempts=settings.openai_tts_max_attempts,
        max_in_flight=settings.openai_tts_max_in_flight,
    )
    return [*providers, OpenAiVoices(config)], f"openai-{settings.openai_tts_voice}"


async def build(connections: Connections) -> ServiceApp:
    settings = connections.settings
    assert isinstance(settings, VoiceSettings)
    providers, default_voice = voice_providers(settings)
    voice = Voice(connections, providers, default_voice)
    return ServiceApp(
        servicers=[
            Servicer(
                voice_service_pb2_grpc.add_VoiceServiceServicer_to_server,
                VoiceServicer(voice, VoiceSamples(connections.store, providers)),
                "adgen.voice.v1.VoiceService",
            )
        ],
        violations=violations,
        handlers=[WorkHandler("voice", events_pb2.VoiceWork, voice.handle, voice.dead_letter)],
        on_close=[p.aclose for p in providers],
    )


def main() -> None:
    run("voice", VoiceSettings, build)


if __name__ == "__main__":
    main()
