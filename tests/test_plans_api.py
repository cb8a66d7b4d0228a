"""REST plan previews and quotes through the gateway, on the real stack: nothing is rendered."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest

pytestmark = pytest.mark.xdist_group("stack")


@pytest.fixture(scope="module")
async def key(stack) -> str:
    return await stack.new_user(f"plans-{uuid.uuid4().hex[:8]}")


async def test_a_preview_plan_fills_the_duration_and_has_a_chunk_plan(stack, key: str) -> None:
    async with stack.client(key) as client:
        response = await client.post(
            "/v1/plans", json={"prompt": "ad for trail running sneakers, energetic", "duration_s": 25, "seed": 3}
        )
        assert response.status_code == 200, response.text
        spec = response.json()["spec"]
    beats = spec["beats"]
    assert sum(b["duration_s"] for b in beats) == spec["duration_s"] == 25
    assert [b["start_s"] for b in beats] == [sum(x["duration_s"] for x in beats[:i]) for i in range(len(beats))]
    assert spec["planner"] == "rules"
    plan = spec["chunk_plan"]
    assert plan["video_model"] == "studio" and plan["slots"]
    assert {s["beat_index"] for s in plan["slots"]} == {b["index"] for b in beats}
    assert plan["total_frames"] == 25 * spec["output"]["fps"]


async def test_a_quote_for_hailuo_fast_prices_every_call(stack, key: str) -> None:
    body = {"prompt": "30 second ad for a matte-black titanium watch, luxury feel", "video_model": "hailuo_fast"}
    async with stack.client(key) as client:
        response = await client.post("/v1/quotes", json=body)
    assert response.status_code == 200, response.text
    quote = response.json()
    spec = quote["spec"]
    clips, beats = len(spec["chunk_plan"]["slots"]), len(spec["beats"])
    assert spec["chunk_plan"]["clip_s"] == 6.0 and quote["local"] is False
    assert quote["cost"]["total_usd"] == pytest.approx(clips * 0.19 + beats * 0.025 + 0.15)
    lines = {line["model"]: line for line in quote["cost"]["lines"]}
    assert lines["hailuo_fast"]["units"] == clips and lines["hailuo_fast"]["phase"] == "chunks"
    # The script is priced by the voice that speaks it: the offline default, per character, free.
    [voice] = [line for line in quote["cost"]["lines"] if line["phase"] == "voice"]
    assert (voice["provider"], voice["usd"]) == ("piper", 0)
    assert voice["units"] == sum(len(b["voiceover"]) for b in spec["beats"]) > 0
    per_beat = [sum(1 for s in spec["chunk_plan"]["slots"] if s["beat_index"] == b["index"]) for b in spec["beats"]]
    assert quote["estimated_seconds"] == pytest.approx(5 + 8 + max(per_beat) * 45 + 30 + 5)


async def test_a_studio_quote_costs_nothing(stack, key: str) -> None:
    async with stack.client(key) as client:
        response = await client.post("/v1/quotes", json={"prompt": "ad for a ceramic coffee mug", "duration_s": 15})
    assert response.status_code == 200, response.text
    assert response.json()["local"] is True and response.json()["cost"]["total_usd"] == 0


@pytest.mark.parametrize("path", ["/v1/plans", "/v1/quotes"])
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"prompt": ""}, "prompt"),
        ({"prompt": "x" * 10_000}, "prompt"),
        ({"prompt": "ad for shoes", "duration_s": 7}, "duration_s"),
        ({"prompt": "ad for shoes", "creativity": 3}, "creativity"),
        ({"prompt": "ad for shoes", "video_model": "sora-9"}, "video_model"),
        ({"prompt": "ad for shoes", "aspect_ratio": "4:3"}, "aspect_ratio"),
        ({"prompt": "ad for shoes", "colour": "red"}, "colour"),
        ({"duration_s": 15}, "prompt"),
    ],
)
async def test_bad_bodies_get_problem_json_naming_the_field(stack, key: str, path: str, body: dict, field: str) -> None:
    async with stack.client(key) as client:
        response = await client.post(path, json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert field in [e["field"] for e in problem["errors"]] and field in problem["detail"]


async def test_plans_need_an_api_key(stack) -> None:
    async with stack.client("adg_not-a-key") as client:
        response = await client.post("/v1/plans", json={"prompt": "ad for shoes"})
    assert response.status_code == 401


async def test_cli_plan_prints_the_beats_and_the_quote(stack, key: str) -> None:
    from typer.testing import CliRunner

    from adgen_cli.main import app

    env = {"ADGEN_URL": stack.url, "ADGEN_API_KEY": key, "COLUMNS": "200"}
    args = ["plan", "ad for trail running sneakers", "--duration", "20", "--video-model", "wan", "--seed", "5"]
    runner = CliRunner()
    as_json = await asyncio.to_thread(runner.invoke, app, [*args, "--json"], env=env)
    assert as_json.exit_code == 0, as_json.output
    quote = json.loads(as_json.stdout)
    slots = len(quote["spec"]["chunk_plan"]["slots"])
    assert quote["video_model"] == "wan" and quote["spec"]["duration_s"] == 20
    table = await asyncio.to_thread(runner.invoke, app, args, env=env)
    assert table.exit_code == 0, table.output
    for beat in quote["spec"]["beats"]:
        assert beat["beat_id"] in table.stdout, table.stdout
    assert f"{slots} chunks of 5 s on wan" in table.stdout
    refused = await asyncio.to_thread(runner.invoke, app, ["plan", "ad", "--duration", "7"], env=env)
    assert refused.exit_code == 2 and "duration_s" in refused.output  # 2: bad input
