"""The length a video gets, on every surface alike: the request's `duration_s` when given, else the
length the prompt states, else 30 s; and the plan's notes say which applied.

The phrases are generated here with the seconds they mean, so the expectation does not come from
the reading under test: the composer, the gateway's request mapping, the CLI's body, REST (the
test stack's /v1/plans and /v1/plans/duration) and the planner's gRPC Plan must all agree with it.
"""

from __future__ import annotations

import asyncio
import math
import uuid
from typing import Any

import grpc
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from adgen.common.v1 import common_pb2 as c
from adgen.planner.v1 import planner_service_pb2 as planner_pb
from adgen.planner.v1 import planner_service_pb2_grpc
from adgen_cli import api as cli_api
from adgen_cli.main import app
from adgen_cli.outcome import CliError, ExitCode
from adgen_gateway.video_request import CreateVideoBody, video_request
from adgen_planner.composer import PlanRequest, compose
from adgen_video.durations import duration_of

pytestmark = pytest.mark.xdist_group("stack")

EXPLICIT = st.none() | st.sampled_from(range(10, 61, 5))
WORDS = {"ten": 10, "fifteen": 15, "twenty": 20, "twenty-five": 25, "thirty": 30, "forty-five": 45, "sixty": 60}


@st.composite
def stated(draw: st.DrawFn) -> tuple[str, int] | None:
    """A length as a marketer writes it, and the seconds it means; None for a prompt without one."""
    kind = draw(st.sampled_from(["digits", "word", "minute", "none"]))
    if kind == "digits":
        seconds = draw(st.integers(min_value=1, max_value=150))
        unit = draw(st.sampled_from(["s", "sec", "secs", "second", "seconds"]))
        return f"{seconds}{draw(st.sampled_from(['', ' ', '-']))}{unit}", seconds
    if kind == "word":
        word = draw(st.sampled_from(sorted(WORDS)))
        return f"{word}{draw(st.sampled_from([' ', '-']))}{draw(st.sampled_from(['second', 'seconds']))}", WORDS[word]
    if kind == "minute":
        return draw(st.sampled_from([("half a minute", 30), ("half-minute", 30), ("a minute", 60), ("one minute", 60)]))
    return None


@st.composite
def prompts(draw: st.DrawFn) -> tuple[str, int | None]:
    phrase = draw(stated())
    product = "Morning Roast, a single-origin coffee"
    if phrase is None:
        return f"ad for {product}", None
    text, seconds = phrase
    template = draw(st.sampled_from(["{p} ad for {x}", "a {p} spot for {x}", "ad for {x} — make it {p}"]))
    return template.format(p=text, x=product), seconds


def expected(explicit: int | None, from_prompt: int | None) -> tuple[int, str]:
    """(seconds, the words the note starts with), worked out without the code under test."""
    if explicit:
        return explicit, "duration from request"
    if from_prompt is None:
        return 30, "duration not stated: default"
    snapped = math.floor(min(max(from_prompt, 10), 60) / 5 + 0.5) * 5
    return snapped, "duration from prompt" if snapped == from_prompt else f"prompt asks for {from_prompt} s"


def holds(spec_seconds: int, notes: list[str] | tuple[str, ...], explicit: int | None, from_prompt: int | None) -> None:
    seconds, note = expected(explicit, from_prompt)
    assert spec_seconds == seconds, (spec_seconds, notes)
    assert any(n.startswith(note) for n in notes), (note, notes)


@settings(max_examples=150, deadline=None)
@given(prompt=prompts(), explicit=EXPLICIT)
def test_the_composer_and_the_gateways_mapping(prompt: tuple[str, int | None], explicit: int | None) -> None:
    text, from_prompt = prompt
    plan = compose(PlanRequest(text, duration_s=explicit))
    holds(plan.duration_s, plan.notes, explicit, from_prompt)
    assert sum(b.duration_s for b in plan.beats) == plan.duration_s

    # REST's body becomes the request the planner gets: an omitted duration stays "not given" (0).
    given: dict[str, Any] = {} if explicit is None else {"duration_s": explicit}
    body = CreateVideoBody(prompt=text, **given)
    request = asyncio.run(video_request(body, chunks=None, assets=None, voices=None, user_id=""))  # type: ignore[arg-type]
    assert request.duration_s == (explicit or 0)
    chosen = duration_of(request.duration_s, request.prompt)
    holds(chosen.seconds, [chosen.note], explicit, from_prompt)
    assert chosen.note in plan.notes


class Sent(Exception):
    pass


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prompt=prompts(), explicit=EXPLICIT)
def test_the_clis_body_leaves_the_length_to_the_prompt(
    monkeypatch: pytest.MonkeyPatch, prompt: tuple[str, int | None], explicit: int | None
) -> None:
    bodies: list[dict] = []

    def post(self, path: str, body: dict | None = None, **_: object) -> dict:
        bodies.append(body or {})
        raise CliError("stop here", ExitCode.BAD_INPUT)

    monkeypatch.setattr(cli_api.Api, "post", post)
    text, _ = prompt
    args = [] if explicit is None else ["--duration", str(explicit)]
    env = {"ADGEN_API_URL": "http://127.0.0.1:9", "ADGEN_API_KEY": "adg_x"}
    for command in ("generate", "plan"):
        result = CliRunner().invoke(app, [command, text, *args, "--json"], env=env)
        assert result.exit_code == ExitCode.BAD_INPUT, result.output
        sent = bodies.pop()
        assert sent["prompt"] == text
        assert sent.get("duration_s") == explicit and ("duration_s" in sent) == (explicit is not None)


@pytest.fixture(scope="module")
async def key(stack) -> str:
    return await stack.new_user(f"durations-{uuid.uuid4().hex[:8]}")


async def test_rest_and_grpc_plan_the_same_length(stack, key: str) -> None:
    """Run in a thread: the stack serves on this test's event loop."""

    @settings(max_examples=40, deadline=None, derandomize=True, database=None)
    @given(prompt=prompts(), explicit=EXPLICIT)
    def property_(prompt: tuple[str, int | None], explicit: int | None) -> None:
        text, from_prompt = prompt
        body = {"prompt": text, "seed": 1, **({} if explicit is None else {"duration_s": explicit})}
        plan = rest.post("/v1/plans", json=body)
        assert plan.status_code == 200, plan.text
        spec = plan.json()["spec"]
        holds(spec["duration_s"], spec["notes"], explicit, from_prompt)
        told = rest.post("/v1/plans/duration", json=body)
        assert told.status_code == 200, told.text
        assert told.json()["duration_s"] == spec["duration_s"] and told.json()["note"] in spec["notes"]
        assert told.json()["source"] == ("request" if explicit else "prompt" if from_prompt else "default")
        request = c.VideoRequest(prompt=text, duration_s=explicit or 0, aspect_ratio=c.ASPECT_RATIO_16_9, seed=1)
        planned = planner.Plan(planner_pb.PlanRequest(request=request), timeout=30)
        holds(planned.spec.duration_s, list(planned.spec.notes), explicit, from_prompt)

    headers = {"Authorization": f"Bearer {key}"}
    with (
        httpx.Client(base_url=stack.url, headers=headers, timeout=60) as rest,
        grpc.insecure_channel(stack.address("planner")) as channel,
    ):
        planner = planner_service_pb2_grpc.PlannerServiceStub(channel)
        await asyncio.to_thread(property_)


async def test_a_video_without_a_length_gets_the_prompts(stack, key: str) -> None:
    """The issue's case: "20 second ad …" with Length left to Auto is a 20 s video, quoted as one."""
    prompt = "20 second ad for Morning Roast, a single-origin coffee"
    async with stack.client(key) as client:
        quote = await client.post("/v1/quotes", json={"prompt": prompt, "seed": 2})
        assert quote.status_code == 200, quote.text
        assert quote.json()["spec"]["duration_s"] == 20
        created = await client.post("/v1/videos", json={"prompt": prompt, "seed": 2, "max_cost_usd": 1})
        assert created.status_code == 202, created.text
        video_id = created.json()["id"]
        for _ in range(300):
            video = (await client.get(f"/v1/videos/{video_id}")).json()
            if video["spec"]:
                break
            await asyncio.sleep(0.1)
        assert video["spec"]["duration_s"] == 20 and "duration from prompt: 20 s" in video["spec"]["notes"]
        assert video["request"]["duration_s"] == 0  # as asked: not given
        await client.post(f"/v1/videos/{video_id}/cancel")
