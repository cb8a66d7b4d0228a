"""What a language model may decide in a plan, and how its answer becomes one of our plans.

The model chooses the archetype, a sequence of library beats, the words of each beat and the mood.
Everything else stays ours: beat lengths, start times, shot types, camera moves and energies come
from the beat library; the palette from the user's stated colours or the mood; product references
from the request, on every beat. `AdPlanAnswer` is the structured-output contract (its JSON schema is sent to the
model); `to_plan` turns an answer into a `Plan`, repairing what can be repaired and recording each
repair, and the caller runs the result through `spec_rules.check` like any other plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from adgen_planner.archetypes import ARCHETYPES, MOOD_PALETTES
from adgen_planner.beat_library import FIELD_WORD_CAPS, LIBRARY, BeatDefinition
from adgen_planner.composer import PlanRequest, plan_duration, plan_seed, product_images_note
from adgen_planner.plan import Plan, PlannedBeat, Style
from adgen_planner.prompt_reading import PromptReading
from adgen_planner.prompt_safety import smuggled
from adgen_planner.vocabulary import CATEGORIES, MOODS
from adgen_planner.voiceover import ScriptBrief, line, problem, spoken, word_budget
from adgen_video.naming import UNNAMED_PRODUCT
from adgen_video.request_limits import PROMPT_WORD_LIMIT
from adgen_video.text_safety import sanitise

# On-screen text is read in a second or two.
TEXT_WORD_CAP = 8
if TYPE_CHECKING:
    # The ids are data, known only when the module runs: strings to the checker, enumerations to pydantic.
    BeatId = str
    ArchetypeId = str
    MoodId = str
else:
    BeatId = Literal[tuple(LIBRARY)]
    ArchetypeId = Literal[tuple(ARCHETYPES)]
    MoodId = Literal[tuple(MOODS)]


def _all_required(schema: dict[str, Any]) -> None:
    """Strict structured outputs want every property required and none with a default. The
    `voiceover` default only lets an answer without a line be read; `to_plan` gives it the rules' line."""
    schema["required"] = list(schema["properties"])
    for prop in schema["properties"].values():
        prop.pop("default", None)


class AnswerBeat(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_all_required)

    beat_id: BeatId
    duration_s: int
    prompt: str
    headline: str
    subline: str
    voiceover: str = ""


class AnswerStyle(BaseModel):
    model_config = ConfigDict(extra="forbid")

    aesthetic: str
    mood: MoodId


class AdPlanAnswer(BaseModel):
    """The model's answer. Every field is required and no others are allowed, as structured
    outputs in strict mode demand."""

    model_config = ConfigDict(extra="forbid")

    archetype_id: ArchetypeId
    product_name: str
    brand: str
    call_to_action: str
    style: AnswerStyle
    beats: list[AnswerBeat]


def response_format() -> dict[str, Any]:
    """The `response_format` of a structured-output request, generated from `AdPlanAnswer`."""
    return {
        "type": "json_schema",
        "json_schema": {"name": "ad_plan", "strict": True, "schema": AdPlanAnswer.model_json_schema()},
    }


def library_brief(duration_s: int, asset_count: int) -> str:
    """What the model needs to choose well: the duration, the archetypes and the beat library."""
    lines = [f"Requested duration: exactly {duration_s} s. Product images supplied: {asset_count}.", "", "Archetypes:"]
    for a in ARCHETYPES.values():
        lines.append(
            f"- {a.archetype_id} ({a.min_duration_s}-{a.max_duration_s} s, {a.energy_curve} energy): "
            + " -> ".join(f"{s.name} [{', '.join(s.beat_ids)}]" for s in a.stages)
        )
    lines += [
        "",
        "Each beat's voiceover is one or two spoken sentences of plain English, ending with punctuation, within"
        " the beat's word budget: the opening names the product and brand, the closing speaks the call to"
        " action and the name, the others say the beat's benefit in more words than its headline.",
        "",
        "Beat library (id, length, position, shot, camera, energy, suits; voiceover word budget):",
    ]
    for b in LIBRARY.values():
        lines.append(
            f"- {b.beat_id}: {b.duration_s} s, {b.position}, {b.shot_type}, {b.camera_movement}, {b.energy}, "
            f"{', '.join(sorted(b.compatible_products))}; voiceover at most {word_budget(b.duration_s)} words"
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class Repaired:
    plan: Plan
    repairs: tuple[str, ...]


def _text(value: str, cap: int, where: str, repairs: list[str]) -> str:
    clean = sanitise(value, max_words=cap)
    if clean != value:
        repairs.append(f"{where} cleaned to {clean!r}")
    return clean


def _voiceover(
    said: str, index: int, definition: BeatDefinition, script: ScriptBrief, user_prompt: str, repairs: list[str]
) -> str:
    """The model's line for a beat, cleaned; the rules' line instead when it is empty, over the
    beat's budget or repeats an instruction the user smuggled in (each recorded)."""
    where = f"beat {index} ({definition.beat_id}) voiceover"
    clean = spoken(said)
    leaked = smuggled(said, user_prompt) or smuggled(clean, user_prompt)
    over = problem(clean, definition.duration_s)
    if leaked or over or not clean:
        why = f"repeated the user's instruction {leaked!r}" if leaked else over or "was empty"
        repairs.append(f"{where} {why}: the rules' line is used")
        return line(index, definition.position, definition.duration_s, script)
    if clean != said:
        repairs.append(f"{where} cleaned to {clean!r}")
    return clean


def to_plan(answer: AdPlanAnswer, request: PlanRequest, reading: PromptReading) -> Repaired:
    """Our plan from the model's choices. Repairs (each recorded): a beat length that differs
    from the library's takes the library's; text is sanitised and capped; a beat prompt that is
    empty or repeats an instruction the user smuggled in becomes the library template; a voiceover
    line that is empty, repeats such an instruction or is over its beat's word budget becomes the
    rules' line."""
    repairs: list[str] = []
    notes: list[str] = []
    duration = plan_duration(request.duration_s, reading.duration_s, notes)
    product = _text(answer.product_name, FIELD_WORD_CAPS["product_name"], "product name", repairs) or (
        reading.product_name or UNNAMED_PRODUCT
    )
    brand = _text(answer.brand, FIELD_WORD_CAPS["product_name"], "brand", repairs) or None
    call_to_action = _text(answer.call_to_action, TEXT_WORD_CAP, "call to action", repairs)
    mood = answer.style.mood
    aesthetic = _text(answer.style.aesthetic, FIELD_WORD_CAPS["style_aesthetic"], "aesthetic", repairs)
    palette = reading.colours or MOOD_PALETTES[mood]
    style = Style(aesthetic=aesthetic or mood, palette=palette, mood=mood, lighting=MOODS[mood].lighting)
    setting = reading.setting or CATEGORIES[reading.category].setting
    fields = {"product_name": product, "setting": setting, "style_aesthetic": style.aesthetic}
    script = ScriptBrief(
        product=None if product == UNNAMED_PRODUCT else product,
        brand=brand,
        call_to_action=call_to_action,
        category=reading.category,
        mood=mood,
        seed=plan_seed(request),
    )
    beats = []
    start = 0
    for index, beat in enumerate(answer.beats):
        definition = LIBRARY[beat.beat_id]
        where = f"beat {index} ({beat.beat_id})"
        if beat.duration_s != definition.duration_s:
            repairs.append(f"{where} length {beat.duration_s} s -> {definition.duration_s} s (the library's)")
        prompt = sanitise(beat.prompt, max_words=PROMPT_WORD_LIMIT - 1)
        leaked = smuggled(beat.prompt, request.prompt) or smuggled(prompt, request.prompt)
        if leaked or not prompt:
            why = f"repeated the user's instruction {leaked!r}" if leaked else "was empty"
            repairs.append(f"{where} prompt {why}: the library template is used")
            prompt = sanitise(definition.prompt_template.format(**fields))
        elif prompt != beat.prompt:
            repairs.append(f"{where} prompt cleaned")
        beats.append(
            PlannedBeat(
                index=index,
                beat_id=beat.beat_id,
                start_s=start,
                duration_s=definition.duration_s,
                shot_type=definition.shot_type,
                camera_movement=definition.camera_movement,
                energy=definition.energy,
                position=definition.position,
                prompt=prompt,
                shows_product=definition.shows_product,
                headline=_text(beat.headline, TEXT_WORD_CAP, f"{where} headline", repairs),
                subline=_text(beat.subline, TEXT_WORD_CAP, f"{where} subline", repairs),
                reference_asset_ids=request.asset_ids,  # every beat features the product
                voiceover=_voiceover(beat.voiceover, index, definition, script, request.prompt, repairs),
            )
        )
        start += definition.duration_s
    notes.append(f"archetype {answer.archetype_id} (chosen by the model)")
    if request.asset_ids:
        notes.append(product_images_note(len(request.asset_ids)))
    notes.append("beats: " + ", ".join(b.beat_id for b in beats))
    notes += [f"repaired: {r}" for r in repairs]
    plan = Plan(
        archetype_id=answer.archetype_id,
        duration_s=duration,
        product_name=product,
        category=reading.category,
        brand=brand,
        call_to_action=call_to_action,
        style=style,
        beats=tuple(beats),
        notes=tuple(notes),
    )
    return Repaired(plan, tuple(repairs))
