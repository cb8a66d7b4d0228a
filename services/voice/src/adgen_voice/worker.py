"""The voice's work: one beat's line spoken, fitted to its beat, stored with its word timings, charged.

A line is first spoken at the voice's own pace; when it is longer than its beat leaves room for,
it is spoken again at the rate `voice_timing.next_rate` asks, until it fits. Every try is a
provider call and has its ledger row, a line that never fits too. The WAV and its word timings are
stored at the beat's fixed keys before anything is recorded, so a redelivered item finds them and
calls no provider again; the ledger rows' fixed idempotency keys make a repeated record a no-op.
Once the line's row is marked spoken, the last of a video's chunks and lines to finish enqueues
refine (`adgen_video.refine_gate`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from adgen.common.v1 import common_pb2
from adgen.events.v1 import events_pb2
from adgen_kernel.errors import InvalidArgument
from adgen_kernel.jetstream import WorkContext
from adgen_kernel.logs import get_logger
from adgen_kernel.serve import Connections
from adgen_video import keys
from adgen_video.contract_rules import VOICEOVER_MAX_CHARS
from adgen_video.refine_gate import lock_video, start_refine, unit_counts
from adgen_video.speech_pace import SENTENCE_ENDINGS
from adgen_video.text_safety import sanitise
from adgen_video.video_state import emit, fail_video, live_run, msg_id, record_cost, video_exists
from adgen_video.voice_lines import count_attempt, line_take, mark_spoken
from adgen_voice.line_script import foreign_script, without_pictographs
from adgen_voice.speech import Speech, VoiceInfo, VoiceProvider, wav_bytes
from adgen_voice.voice_timing import LineTooLong, WordTiming, next_rate

log = get_logger(__name__)

LEDGER_PHASE = common_pb2.PHASE_VOICE


@dataclass(frozen=True)
class SpokenLine:
    audio_key: str
    duration_s: float
    speaking_rate: float
    words: list[WordTiming]
    provider: str
    model: str
    usd_micros: int


class Voice:
    def __init__(self, connections: Connections, providers: list[VoiceProvider], default_voice: str) -> None:
        self._c = connections
        self._by_voice = {v.key: (v, p) for p in providers for v in p.voices()}
        if default_voice not in self._by_voice:
            raise ValueError(f"default voice {default_voice!r} is none of {sorted(self._by_voice)}")
        self.default_voice = default_voice

    def voices(self) -> list[VoiceInfo]:
        return [info for info, _ in self._by_voice.values()]

    def checked(self, text: str, voice: str) -> tuple[str, str]:
        """The line as it is spoken and the voice key; INVALID_ARGUMENT naming the field otherwise.
        The line is sanitised as the planner's prompts are: markup is spoken as the words around it,
        never interpreted, and links and instruction-like phrases never reach a provider; emoji are
        left out, and a line in a script the voice does not read is refused (`line_script`)."""
        if len(text) > VOICEOVER_MAX_CHARS:
            raise InvalidArgument(f"text: the line has {len(text)} characters, more than {VOICEOVER_MAX_CHARS}")
        if not text.strip():
            raise InvalidArgument("text: the line is empty")
        key = voice or self.default_voice
        if key not in self._by_voice:
            raise InvalidArgument(f"voice: {voice[:64]!r} is not a voice; known: {', '.join(sorted(self._by_voice))}")
        line = without_pictographs(sanitise(text))
        if not line:
            raise InvalidArgument(
                "text: nothing speakable is left once links, markup, instructions and emoji are removed"
            )
        info, _ = self._by_voice[key]
        foreign = foreign_script(line, info.scripts)
        if foreign is not None:
            raise InvalidArgument(
                f"text: the line is in {foreign} script, which the voice {key!r} ({info.language}) does not read;"
                " write it in the voice's language or choose a voice that speaks it"
            )
        # The sanitiser trims edge punctuation; a line's own full stop or question mark sets its cadence.
        ending = text.rstrip()[-1]
        line += ending if ending in SENTENCE_ENDINGS and line[-1] not in SENTENCE_ENDINGS else ""
        return line, key

    async def synthesize(
        self, video_id: str, user_id: str, beat_index: int, text: str, voice: str, target_s: float, take: int = 0
    ) -> SpokenLine:
        """The beat's line spoken (or the stored one reused) and charged; safe to call again. A later
        take (the line an edit changed) has objects and ledger rows of its own."""
        line, key = self.checked(text, voice)
        audio_key = keys.voice_key(user_id, video_id, beat_index, take)
        words_key = keys.voice_words_key(user_id, video_id, beat_index, take)
        unit = f"{video_id}:voice:{beat_index}" + (f":take{take}" if take else "")
        stored = await self._c.store.get_bytes_if_exists(words_key)
        if stored is not None and await self._c.store.exists(audio_key):
            return _from_json(audio_key, stored)
        _, provider = self._by_voice[key]
        spoken: list[Speech] = []
        rate: float | None = 1.0
        try:
            while rate is not None:
                spoken.append(await provider.speak(line, key, rate))
                rate = next_rate([(s.rate, s.duration_s) for s in spoken], target_s)
        except LineTooLong as error:  # the caller's words: asking again will not shorten them
            await self._charge(video_id, unit, line, spoken)  # the tries were paid all the same
            raise InvalidArgument(f"text: {error}") from None
        final = spoken[-1]
        result = SpokenLine(
            audio_key,
            final.duration_s,
            final.rate,
            final.words,
            final.provider,
            final.model,
            sum(s.usd_micros for s in spoken),
        )
        # The timings are stored last: they mark the line as complete for a redelivery.
        await self._c.store.put_bytes(audio_key, wav_bytes(final.samples), "audio/wav")
        await self._c.store.put_bytes(words_key, json.dumps(asdict(result)).encode(), "application/json")
        await self._charge(video_id, unit, line, spoken)
        return result

    async def _charge(self, video_id: str, unit: str, line: str, spoken: list[Speech]) -> None:
        """One ledger row per synthesis of the line; none outside a video (an internal caller's)."""
        if not await video_exists(self._c.db, video_id):
            return
        for attempt, speech in enumerate(spoken):
            await record_cost(
                self._c.db,
                self._c.js,
                idempotency_key=unit + (f":try{attempt + 1}" if attempt else ""),
                video_id=video_id,
                phase=LEDGER_PHASE,
                provider=speech.provider,
                model=speech.model,
                units=len(line),
                usd_micros=speech.usd_micros,
            )

    async def handle(self, work: events_pb2.VoiceWork, _: WorkContext) -> None:
        db, js, vid = self._c.db, self._c.js, work.video_id
        run = await live_run(db, vid)
        if run is None:
            return
        if not 0 <= work.beat_index < len(work.spec.beats):
            raise InvalidArgument(f"beat_index {work.beat_index} is outside the plan's {len(work.spec.beats)} beats")
        beat = work.spec.beats[work.beat_index]
        if not beat.voiceover.strip():
            return  # a beat without a line has nothing to speak (and the planner gave it no row)
        await count_attempt(db, vid, work.beat_index)
        take = await line_take(db, vid, work.beat_index)
        line = await self.synthesize(
            vid, work.user_id, work.beat_index, beat.voiceover, work.voice, beat.duration_s, take
        )
        async with db.acquire() as conn, conn.transaction():
            await lock_video(conn, vid)
            await mark_spoken(conn, vid, work.beat_index, line.audio_key, line.duration_s)
            counts = await unit_counts(conn, vid)
        await emit(
            js,
            vid,
            msg_id(vid, run, f"voice_ready:{work.beat_index}"),
            voice_ready=events_pb2.VoiceReady(
                beat_index=work.beat_index,
                audio_key=line.audio_key,
                duration_s=line.duration_s,
                lines_done=counts.lines_done,
            ),
        )
        log.info("line spoken", video_id=vid, beat_index=work.beat_index, rate=line.speaking_rate)
        if counts.refine_due:  # the chunks were done first: the last line enqueues refine
            await start_refine(js, vid, work.user_id, work.spec, run)

    async def dead_letter(self, work: events_pb2.VoiceWork, error: BaseException) -> None:
        await fail_video(
            self._c.db,
            self._c.js,
            video_id=work.video_id,
            phase=LEDGER_PHASE,
            unit=f"voiceover of beat {work.beat_index}",
            reason=str(error),
        )


def _from_json(audio_key: str, data: bytes) -> SpokenLine:
    stored = json.loads(data)
    words = [WordTiming(**w) for w in stored.pop("words")]
    return SpokenLine(**{**stored, "audio_key": audio_key, "words": words})
