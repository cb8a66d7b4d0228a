"""Real processes: after a whole video, no log file holds a secret (the user's API key, the S3 secret,
a provider key), and every service log line is JSON that says when, how bad, which service and,
for work, which video and trace."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest

from adgen_cli.stack import DevStack
from adgen_embedded.ports import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("processes")]

FAKE_OPENAI_KEY = "sk-adgen-test-4f1c9a7e2b6d"


async def test_logs_are_json_and_hold_no_secret(tmp_path_factory: pytest.TempPathFactory) -> None:
    # The planner tries OpenAI with the key at a closed port and falls back to its rules at once; the
    # voice service holds the key too (it lists OpenAI's voices), and the video names the offline one.
    stack = DevStack(
        tmp_path_factory.mktemp("secrets-stack"),
        extra_env={
            "ADGEN_OPENAI_API_KEY": FAKE_OPENAI_KEY,
            "ADGEN_OPENAI_BASE_URL": f"http://127.0.0.1:{free_port()}/v1",
            "ADGEN_OPENAI_MAX_RETRIES": "0",
        },
    )
    info = await asyncio.to_thread(stack.up, http_port=free_port())
    try:
        headers = {"Authorization": f"Bearer {info.api_key}"}
        async with httpx.AsyncClient(base_url=info.url, headers=headers, timeout=30) as client:
            created = await client.post(
                "/v1/videos", json={"prompt": "15 second ad for a wool scarf", "duration_s": 15, "voice": "piper-joe"}
            )
            assert created.status_code == 202, created.text
            video_id = created.json()["id"]
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                video = (await client.get(f"/v1/videos/{video_id}")).json()
                if video["status"] in ("completed", "failed"):
                    break
                await asyncio.sleep(0.5)
            assert video["status"] == "completed", video
    finally:
        await asyncio.to_thread(stack.down)

    secrets = {
        "the user's API key": info.api_key,
        "the S3 secret": info.endpoints.s3_secret_key,
        "the OpenAI key": FAKE_OPENAI_KEY,
    }
    log_files = sorted(stack.state_dir.rglob("*.log"))
    assert {p.stem for p in (stack.logs).glob("*.log")} >= {"gateway", "planner", "chunks", "export"}
    for path in log_files:
        text = path.read_text(errors="replace")
        for what, secret in secrets.items():
            assert secret and secret not in text, f"{what} appears in {path.name}"

    worker_lines = 0
    for path in stack.logs.glob("*.log"):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            assert {"timestamp", "level", "service", "event"} <= record.keys(), (path.name, line)
            assert record["service"] == path.stem, (path.name, line)
            if "worker" in record and record.get("video_id") == video_id:
                worker_lines += 1
                assert len(record["trace_id"]) == 32 and len(record["span_id"]) == 16, line
    assert worker_lines >= 5, "each worker logs the items it handled"
