"""REST: /v1/voices — the voices that may speak a video's lines, each with a sample to hear it by."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field

from adgen_gateway.api_docs import problems
from adgen_gateway.auth import User
from adgen_gateway.dependencies import Backends, backends, current_user
from adgen_gateway.errors import Problem

router = APIRouter(prefix="/v1/voices", tags=["voices"])

SAMPLE_LINK_S = 3600


class VoiceOut(BaseModel):
    key: str = Field(description="What a request's `voice` names")
    provider: str = Field(description="The engine that speaks it: piper (offline, free) or openai")
    language: str = Field(description="BCP 47, e.g. en-US")
    label: str
    sample_url: str | None = Field(
        description="A pre-signed link (valid an hour) to a WAV of one sentence in this voice; null when the "
        "sample cannot be made right now (`GET /v1/voices/{voice}/sample` tries again)"
    )


class VoicesOut(BaseModel):
    default: str = Field(description="The voice of a request that names none")
    voices: list[VoiceOut]


@router.get("", summary="The voices a request may choose, each with a sample to hear", response_model=VoicesOut)
async def list_voices(
    _: Annotated[User, Depends(current_user)], b: Annotated[Backends, Depends(backends)]
) -> VoicesOut:
    listed = await b.voice.voices()
    samples = await b.voice.sample_keys([v.key for v in listed.voices])
    voices = []
    for voice in listed.voices:
        key = samples[voice.key]
        link = await b.store.presign_get(key, SAMPLE_LINK_S) if key else None
        voices.append(
            VoiceOut(
                key=voice.key, provider=voice.provider, language=voice.language, label=voice.label, sample_url=link
            )
        )
    return VoicesOut(default=listed.default_voice, voices=voices)


@router.get(
    "/{voice}/sample",
    summary="Redirect to a short-lived link to the voice's sample (a WAV)",
    status_code=302,
    responses={302: {"description": "`Location` is a pre-signed link to the WAV"}, **problems(404)},
)
async def sample(
    voice: str, _: Annotated[User, Depends(current_user)], b: Annotated[Backends, Depends(backends)]
) -> RedirectResponse:
    known = await b.voice.keys()
    if voice not in known:  # only a listed key ever reaches the service and the store
        raise Problem(404, f"voice {voice[:64]} not found; known: {', '.join(known)}")
    key = await b.voice.sample_key(voice)
    return RedirectResponse(await b.store.presign_get(key, SAMPLE_LINK_S), status_code=302)
