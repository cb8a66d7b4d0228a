"""The `adgen` commands against the real stack: what a person sees, what scripts parse, and exit
codes that say what happened. The CLI runs in a thread so the stack keeps serving on this loop."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
import skimage.data
from conftest import Stack
from media_checks import decode
from PIL import Image
from typer.testing import CliRunner

from adgen_cli.main import app
from adgen_kernel.serve import Connections
from adgen_planner.reconciler import expire_once
from adgen_voice.speech import read_wav

pytestmark = pytest.mark.xdist_group("stack")


class Cli:
    """Runs `adgen` as a user with one API key would."""

    def __init__(self, stack: Stack, key: str) -> None:
        self.env = {"ADGEN_API_URL": stack.url, "ADGEN_API_KEY": key, "COLUMNS": "200", "ADGEN_URL": ""}
        self.runner = CliRunner()

    async def __call__(self, *args: str):
        return await asyncio.to_thread(self.runner.invoke, app, list(args), env=self.env)

    async def json(self, *args: str, code: int = 0) -> dict:
        result = await self(*args, "--json")
        assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
        return json.loads(result.stdout)  # the whole of stdout is one JSON document


async def user_cli(stack: Stack, prefix: str) -> Cli:
    return Cli(stack, await stack.new_user(f"{prefix}-{uuid.uuid4().hex[:8]}"))


async def test_generate_download_list_and_show(stack: Stack, tmp_path: Path) -> None:
    cli = await user_cli(stack, "cli-gen")
    photo = tmp_path / "mug.png"
    Image.fromarray(skimage.data.coffee()).save(photo)
    made = await cli.json(
        "generate",
        "10 second ad for a ceramic mug",
        "--duration",
        "10",
        "--image",
        str(photo),
        "--aspect-ratio",
        "16:9",
        "--aspect-ratio",
        "9:16",
        "--out",
        str(tmp_path / "a.mp4"),
    )
    assert made["status"] == "completed" and made["file"] == str(tmp_path / "a.mp4")
    uploaded = (await cli.json("assets", "list"))["assets"]
    assert [a["name"] for a in uploaded] == ["mug.png"], "--image went through the assets intake"
    assert all(b["reference_asset_ids"] == [uploaded[0]["asset_id"]] for b in made["spec"]["beats"])
    assert decode(Path(made["file"])).duration_s == pytest.approx(10.0, abs=0.1)
    video_id = made["id"]

    saved = await cli.json("videos", "download", video_id, "--out", str(tmp_path / "again.mp4"))
    decoded = decode(tmp_path / "again.mp4")
    assert saved["bytes"] == (tmp_path / "again.mp4").stat().st_size
    assert decoded.duration_s == pytest.approx(10.0, abs=0.1) and saved["duration_s"] == pytest.approx(10.0, abs=0.1)
    assert (decoded.width, decoded.height) == (1280, 720) and saved["aspect_ratio"] == "16:9"
    assert not (tmp_path / "again.mp4.part").exists(), "no partial file is left behind"

    portrait = await cli.json(
        "videos", "download", video_id, "--aspect-ratio", "9:16", "--out", str(tmp_path / "p.mp4")
    )
    vertical = decode(tmp_path / "p.mp4")
    assert portrait["aspect_ratio"] == "9:16" and vertical.height > vertical.width
    assert vertical.duration_s == pytest.approx(10.0, abs=0.1)

    # A shape the video was not rendered in is refused before anything is written.
    wrong = await cli("videos", "download", video_id, "--aspect-ratio", "4:5", "--out", str(tmp_path / "no.mp4"))
    assert wrong.exit_code == 2 and "no 4:5 rendition" in wrong.stderr
    assert not (tmp_path / "no.mp4").exists()

    shown = await cli.json("videos", "show", video_id)
    assert shown["id"] == video_id and shown["status"] == "completed" and shown["cost"]["total_usd"] == 0.0
    # The plan carries the studio latencies the ETA is computed from (planner quote.STUDIO).
    assert shown["spec"]["expected_latency"] == {
        "plan_s": 0.5,
        "image_s": 1.0,
        "clip_s": 4.0,
        "refine_s": 10.0,
        "export_s": 2.0,
    }
    human = await cli("videos", "show", video_id)
    assert human.exit_code == 0 and video_id in human.stdout and "completed" in human.stdout
    listed = await cli.json("videos", "list")
    assert [v["id"] for v in listed["videos"]] == [video_id] and listed["next_page_token"] is None

    # A headline edit of the completed video makes its version 2; following it waits past version 1's end.
    headline = "Warm hands, slow mornings"
    edited = await cli("videos", "edit", video_id, "--beat", "0", "--headline", headline, "--follow")
    assert edited.exit_code == 0, (edited.stdout, edited.stderr)
    assert f"{video_id} completed · version 2" in edited.stdout, edited.stdout
    assert f"adgen videos download {video_id}" in edited.stdout
    second = await cli.json("videos", "show", video_id)
    assert (second["status"], second["version"], second["plan_revision"]) == ("completed", 2, 2)
    assert second["spec"]["beats"][0]["headline"] == headline
    assert f"adgen videos versions {video_id}" in (await cli("videos", "show", video_id)).stdout

    moved = await cli("videos", "edit", video_id, "--beat", "0", "--shot", "sideways")
    assert moved.exit_code == 2 and "beats.0.shot_type" in moved.stderr, moved.stderr
    versions = (await cli.json("videos", "versions", video_id))["versions"]
    assert [(v["version"], v["plan_revision"]) for v in versions] == [(1, 1), (2, 2)], "the refusal made none"
    table = await cli("videos", "versions", video_id)
    assert table.exit_code == 0 and [line.split()[0] for line in table.stdout.splitlines()[2:]] == ["1", "2"]

    first = await cli.json("videos", "download", video_id, "--version", "1", "--out", str(tmp_path / "v1.mp4"))
    latest = await cli.json("videos", "download", video_id, "--out", str(tmp_path / "v2.mp4"))
    assert (first["version"], latest["version"]) == (1, 2)
    assert decode(tmp_path / "v1.mp4").duration_s == pytest.approx(10.0, abs=0.1)
    assert decode(tmp_path / "v2.mp4").duration_s == pytest.approx(10.0, abs=0.1)
    assert (tmp_path / "v1.mp4").read_bytes() == (tmp_path / "again.mp4").read_bytes(), "version 1 is kept as made"
    assert (tmp_path / "v2.mp4").read_bytes() != (tmp_path / "v1.mp4").read_bytes()
    await cli.json(
        "videos", "download", video_id, "--version", "1", "--aspect-ratio", "9:16", "--out", str(tmp_path / "p1.mp4")
    )
    assert (tmp_path / "p1.mp4").read_bytes() == (tmp_path / "p.mp4").read_bytes(), "and so is its rendition"
    unknown = await cli.json("videos", "download", video_id, "--version", "3", code=3)
    assert "versions 1, 2" in unknown["error"]["message"], unknown


async def test_cancel_retry_and_paging(stack: Stack) -> None:
    cli = await user_cli(stack, "cli-cancel")
    async with stack.client(cli.env["ADGEN_API_KEY"]) as client:
        first = (await client.post("/v1/videos", json={"prompt": "ad for a desk lamp", "duration_s": 10})).json()["id"]
    cancelled = await cli.json("videos", "cancel", first)
    assert cancelled == {**cancelled, "id": first, "status": "cancelled"}
    again = await cli.json("videos", "cancel", first, code=2)  # 409: already finished
    assert again["error"]["status"] == 409 and "already cancelled" in again["error"]["message"]

    retried = await cli.json("videos", "retry", first)
    assert retried["id"] == first and retried["status"] not in ("cancelled", "failed")
    refused = await cli.json("videos", "retry", first, code=2)  # 409 while it runs
    assert refused["error"]["status"] == 409
    followed = await cli.json("videos", "show", first, "--follow")
    assert followed["status"] == "completed", followed

    async with stack.client(cli.env["ADGEN_API_KEY"]) as client:
        second = (await client.post("/v1/videos", json={"prompt": "ad for a desk fan", "duration_s": 10})).json()["id"]
    await cli.json("videos", "cancel", second)
    page = await cli.json("videos", "list", "--limit", "1")
    assert [v["id"] for v in page["videos"]] == [second] and page["next_page_token"]
    rest = await cli.json("videos", "list", "--limit", "1", "--page-token", page["next_page_token"])
    assert [v["id"] for v in rest["videos"]] == [first]
    everything = await cli.json("videos", "list", "--limit", "1", "--all")
    assert [v["id"] for v in everything["videos"]] == [second, first] and everything["next_page_token"] is None
    not_done = await cli.json("videos", "download", second, code=2)
    assert "only a completed video" in not_done["error"]["message"]


async def test_exit_codes_for_not_found_bad_key_bad_input_and_no_gateway(stack: Stack) -> None:
    cli = await user_cli(stack, "cli-codes")
    missing = str(uuid.uuid4())
    for command in (["videos", "show", missing], ["videos", "cancel", missing], ["videos", "download", missing]):
        answer = await cli.json(*command, code=3)
        assert answer["error"]["status"] == 404 and missing in answer["error"]["message"], command
    human = await cli("videos", "show", missing)
    assert human.exit_code == 3 and human.stdout == "" and "not found" in human.stderr

    stranger = Cli(stack, "adg_not-a-key")
    assert (await stranger.json("videos", "list", code=4))["error"]["status"] == 401
    assert (await stranger.json("assets", "list", code=4))["error"]["status"] == 401

    bad = await cli.json("generate", "ad for shoes", "--duration", "7", code=2)
    assert bad["error"]["status"] == 422 and "duration_s" in {e["field"] for e in bad["error"]["errors"]}
    refused_plan = await cli("plan", "ad", "--duration", "7")
    assert refused_plan.exit_code == 2 and "duration_s" in refused_plan.stderr

    nowhere = Cli(stack, "adg_whatever")
    nowhere.env["ADGEN_API_URL"] = "http://127.0.0.1:9"
    assert (await nowhere.json("videos", "list", code=5))["error"]["exit_code"] == 5
    usage = await cli("videos", "list", "--limit", "0")
    assert usage.exit_code == 2


async def test_assets_upload_list_and_search(stack: Stack, tmp_path: Path) -> None:
    cli = await user_cli(stack, "cli-assets")
    paths = []
    for name, colour in (("mug.png", (200, 40, 40)), ("lamp.jpg", (30, 90, 200))):
        image = Image.new("RGB", (160, 120), colour)
        image.paste((255, 255, 255), (40, 30, 80, 60))
        image.save(tmp_path / name)
        paths.append(str(tmp_path / name))
    named = await cli.json("assets", "upload", paths[0], "--name", "red mug")
    assert [a["name"] for a in named["assets"]] == ["red mug"]
    assert (named["assets"][0]["width"], named["assets"][0]["height"]) == (160, 120)
    second = await cli.json("assets", "upload", paths[1])
    assert second["assets"][0]["content_type"] == "image/jpeg"

    listed = await cli.json("assets", "list")
    assert [a["asset_id"] for a in listed["assets"]] == [
        second["assets"][0]["asset_id"],
        named["assets"][0]["asset_id"],
    ]
    table = await cli("assets", "list")
    assert table.exit_code == 0 and "red mug" in table.stdout

    assert (await cli("assets", "upload", str(tmp_path / "missing.png"))).exit_code == 2
    assert (await cli("assets", "upload", *paths, "--name", "both")).exit_code == 2
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_text("not an image")
    refused = await cli.json("assets", "upload", str(not_an_image), code=2)
    assert 400 <= refused["error"]["status"] < 500
    # `generate --image` uploads first: a photo the intake refuses starts no video.
    no_video = await cli.json("generate", "10 second ad for a red mug", "--image", str(not_an_image), code=2)
    assert 400 <= no_video["error"]["status"] < 500
    assert (await cli.json("videos", "list"))["videos"] == []

    # Search answers 503 when the CLIP weights are not installed: the CLI says "unavailable" (5).
    async with stack.client(cli.env["ADGEN_API_KEY"]) as client:
        direct = await client.get("/v1/assets/search", params={"q": "a red mug"})
    found = await cli("assets", "search", "a red mug", "--json")
    if direct.status_code == 503:
        assert found.exit_code == 5 and json.loads(found.stdout)["error"]["status"] == 503
    else:
        assert found.exit_code == 0, found.stderr
        ids = {r["asset"]["asset_id"] for r in json.loads(found.stdout)["results"]}
        assert ids <= {named["assets"][0]["asset_id"], second["assets"][0]["asset_id"]} and ids


async def test_ctrl_c_during_generate_leaves_the_video_rendering(stack: Stack, tmp_path: Path) -> None:
    """A real SIGINT to a real `adgen generate`: exit 130, the hint to follow or cancel, and the
    video still rendering (nobody answered the prompt, so it is kept)."""
    cli = await user_cli(stack, "cli-sigint")
    env = {**os.environ, **cli.env, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-c", "from adgen_cli.main import app; app()", "generate", "ad for a teapot"]
    process = await asyncio.create_subprocess_exec(
        *command,
        "--duration",
        "30",
        "--out",
        str(tmp_path / "t.mp4"),
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    started = ""
    while "started" not in started:  # the command says so once its video exists and it follows it
        line = await asyncio.wait_for(process.stderr.readline(), 120)
        assert line, "generate ended before starting a video"
        started = line.decode()
    video_id = started.split()[1]
    process.send_signal(signal.SIGINT)
    _, rest = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 130, rest.decode()
    assert f"adgen videos cancel {video_id}" in rest.decode()
    async with stack.client(cli.env["ADGEN_API_KEY"]) as client:
        video = (await client.get(f"/v1/videos/{video_id}")).json()
        assert video["status"] not in ("cancelled", "failed")
        assert (await client.post(f"/v1/videos/{video_id}/cancel")).status_code == 202


async def test_voices_and_the_voice_options(stack: Stack, tmp_path: Path) -> None:
    cli = await user_cli(stack, "cli-voices")
    listed = await cli.json("voices")
    assert listed["default"] == "piper-joe" and [v["key"] for v in listed["voices"]] == ["piper-joe"]
    async with httpx.AsyncClient() as plain:  # the sample link plays without the API key
        sample = await plain.get(listed["voices"][0]["sample_url"])
    samples, rate = read_wav(sample.content)
    assert sample.status_code == 200 and len(samples) / rate > 1.0
    table = await cli("voices")
    assert table.exit_code == 0 and "piper-joe (default)" in table.stdout and "en-US" in table.stdout

    prompt = "10 second ad for a walnut cutting board"
    spoken = await cli.json("plan", prompt, "--voice", "piper-joe", "--seed", "3")
    assert spoken["spec"]["beats"] and all(b["voiceover"] for b in spoken["spec"]["beats"])
    silent = await cli.json("plan", prompt, "--no-voiceover", "--seed", "3")
    assert silent["spec"]["beats"] and all(b["voiceover"] == "" for b in silent["spec"]["beats"])
    human = await cli("plan", prompt, "--seed", "3")
    assert human.exit_code == 0 and "voiceover" in human.stdout, "the plan shows the lines"

    unknown = await cli.json("plan", prompt, "--voice", "nobody", code=2)
    (error,) = unknown["error"]["errors"]
    assert unknown["error"]["status"] == 422 and error["field"] == "voice" and "piper-joe" in error["message"]
    refused = await cli("generate", prompt, "--voice", "nobody", "--out", str(tmp_path / "no.mp4"))
    assert refused.exit_code == 2 and "voice" in refused.stderr
    wrong = await cli("generate", prompt, "--captions", "subtitles", "--out", str(tmp_path / "no.mp4"))
    assert wrong.exit_code == 2 and "captions" in wrong.stderr
    assert (await cli.json("videos", "list"))["videos"] == [], "an unknown voice or captions mode starts no video"

    made = await cli.json(
        "generate",
        prompt,
        "--duration",
        "10",
        "--voice",
        "piper-joe",
        "--no-voiceover",
        "--out",
        str(tmp_path / "v.mp4"),
    )
    assert made["status"] == "completed" and decode(Path(made["file"])).duration_s == pytest.approx(10.0, abs=0.1)
    assert made["request"]["voice"] == "piper-joe" and made["request"]["voiceover"] is False
    shown = await cli("videos", "show", made["id"])
    assert shown.exit_code == 0 and "none (no voiceover)" in shown.stdout


async def test_users_create_prints_a_working_key_and_refuses_a_name_taken(stack: Stack) -> None:
    name = f"cli-user-{uuid.uuid4().hex[:8]}"
    env = {"ADGEN_DATABASE_URL": stack.endpoints.database_url, "COLUMNS": "200"}
    runner = CliRunner()
    made = await asyncio.to_thread(runner.invoke, app, ["users", "create", name, "--json"], env=env)
    assert made.exit_code == 0, (made.stdout, made.stderr)
    assert json.loads(made.stdout)["name"] == name
    assert (await Cli(stack, json.loads(made.stdout)["api_key"]).json("videos", "list"))["videos"] == []

    taken = await asyncio.to_thread(runner.invoke, app, ["users", "create", name], env=env)
    assert taken.exit_code == 2 and taken.stdout == "" and f"user {name!r} exists already" in taken.stderr


async def test_review_at_the_storyboard_gate_redraw_one_image_and_approve(stack: Stack, tmp_path: Path) -> None:
    """`generate --review storyboard` stops at the gate (exit 0, nothing downloaded) with the quote of
    the rest; `videos review` shows the images; one is drawn again; approving renders the rest."""
    cli = await user_cli(stack, "cli-review")
    out = tmp_path / "gated.mp4"
    made = await cli(
        "generate", "10 second ad for a linen scarf", "--duration", "10", "--review", "storyboard", "--out", str(out)
    )
    assert made.exit_code == 0, (made.stdout, made.stderr)
    assert not out.exists(), "nothing is downloaded at a gate"
    (video_id,) = set(re.findall(r"adgen videos approve (\S+)", made.stdout))
    assert "quote of the rest" in made.stdout and "chunks" in made.stdout, made.stdout
    assert f"adgen videos regenerate {video_id} --beat N" in made.stdout, "the storyboard gate offers a redraw"

    reviewed = await cli.json("videos", "review", video_id)
    video, frames = reviewed["video"], reviewed["frames"]
    assert video["status"] == "awaiting_review" and video["review"]["stage"] == "storyboard"
    assert len(frames) == len(video["spec"]["beats"]) >= 2
    assert all(f["status"] == "done" and f["take"] == 0 and f["url"] for f in frames), frames
    human = await cli("videos", "review", video_id)
    assert human.exit_code == 0, human.stderr
    # Each link is printed whole, on one line, so it can be copied (signed anew for this read: the
    # object's path is the same, its signature's time may not be).
    lines = human.stdout.splitlines()
    for f in frames:
        path = urlsplit(f["url"]).path
        assert any(path in line and "X-Amz-Signature=" in line for line in lines), human.stdout
    assert video["spec"]["beats"][0]["beat_id"] in human.stdout, "the plan's beats are shown"

    outside = await cli("videos", "regenerate", video_id, "--beat", str(len(frames)))
    assert outside.exit_code == 2 and "beat" in outside.stderr, outside.stderr
    redrawn = await cli.json(
        "videos", "regenerate", video_id, "--beat", "1", "--prompt", "scarf on a wooden hook", "--wait"
    )
    assert redrawn["status"] == "awaiting_review" and redrawn["frame"]["take"] == 1 and redrawn["frame"]["url"]
    takes = [f["take"] for f in (await cli.json("videos", "review", video_id))["frames"]]
    assert takes == [1 if beat == 1 else 0 for beat in range(len(frames))], takes

    approved = await cli.json("videos", "approve", video_id, "--follow")
    assert approved["status"] == "completed" and approved["review"] is None, approved
    assert approved["spec"]["beats"][1]["prompt"] == "scarf on a wooden hook"


async def test_plan_gate_show_follow_expiry_retry_and_refusals(
    stack: Stack, db: asyncpg.Pool, connections: Connections
) -> None:
    """The plan gate: following stops there (generate, show --follow, and retry --follow of an expired
    gate, which waits again); what the gateway refuses ends with the bad-input code and its message."""
    cli = await user_cli(stack, "cli-plan-gate")
    waiting = await cli.json("generate", "10 second ad for a wool hat", "--duration", "10", "--review", "plan")
    video_id = waiting["id"]
    assert waiting["status"] == "awaiting_review" and waiting["review"]["stage"] == "plan", waiting
    shown = await cli.json("videos", "show", video_id, "--follow")
    assert shown["status"] == "awaiting_review", "following a video at its gate returns at once"
    human = await cli("videos", "review", video_id)
    assert human.exit_code == 0 and "quote of the rest" in human.stdout and "storyboard" in human.stdout
    assert "regenerate" not in human.stdout, "no image to draw again at the plan gate"

    at_plan_gate = await cli("videos", "regenerate", video_id, "--beat", "0")
    assert at_plan_gate.exit_code == 2 and "storyboard gate" in at_plan_gate.stderr, at_plan_gate.stderr
    bad = await cli.json("generate", "10 second ad for a wool hat", "--review", "later", code=2)
    assert [e["field"] for e in bad["error"]["errors"]] == ["review"]

    async with stack.client(cli.env["ADGEN_API_KEY"]) as client:
        plain = (await client.post("/v1/videos", json={"prompt": "ad for a scarf", "duration_s": 10})).json()["id"]
    refused = await cli("videos", "approve", plain)
    assert refused.exit_code == 2 and "only a video waiting at its review gate" in refused.stderr, refused.stderr
    refused_json = await cli.json("videos", "approve", plain, code=2)
    assert refused_json["error"]["status"] == 409
    await cli.json("videos", "cancel", plain)  # the user's one rendering slot is free for the retry

    await db.execute(
        "UPDATE videos SET review_expires_at = now() - interval '1 second' WHERE video_id = $1", uuid.UUID(video_id)
    )
    assert video_id in await expire_once(connections.db, connections.js)
    expired = await cli("videos", "show", video_id, "--follow")
    assert expired.exit_code == 1 and "expired" in expired.stderr
    retried = await cli.json("videos", "retry", video_id, "--follow")
    assert retried["status"] == "awaiting_review" and retried["run"] == 2, retried
    await cli.json("videos", "cancel", video_id)
