"""The pure parts of the CLI: the exit-code mapping, which MP4 a download fetches, the live view."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rich.console import Console

from adgen_cli import views
from adgen_cli.outcome import CliError, ExitCode, exit_code_for_status
from adgen_cli.videos import download_link, ratio_key


@pytest.mark.parametrize(
    ("status", "code"),
    [(400, 2), (401, 4), (403, 4), (404, 3), (409, 2), (413, 2), (422, 2), (429, 2), (500, 5), (503, 5), (504, 5)],
)
def test_every_http_status_maps_to_one_exit_code(status: int, code: int) -> None:
    assert exit_code_for_status(status) == code


def test_download_link_picks_the_rendition_asked_for() -> None:
    video = {
        "id": "v1",
        "request": {"aspect_ratio": "ASPECT_RATIO_16_9"},
        "renditions": [{"aspect_ratio": "9:16", "download_url": "/v1/videos/v1/download?aspect_ratio=9:16"}],
    }
    assert download_link(video, None) == ("/v1/videos/v1/download", "16:9")
    assert download_link(video, "16:9") == ("/v1/videos/v1/download", "16:9")
    assert download_link(video, "9x16") == ("/v1/videos/v1/download?aspect_ratio=9:16", "9:16")
    with pytest.raises(CliError) as refused:
        download_link(video, "1:1")
    assert refused.value.exit_code == ExitCode.BAD_INPUT and "16:9, 9:16" in refused.value.message
    assert ratio_key("ASPECT_RATIO_1_1") == ratio_key("1:1") == "1:1"


def test_the_live_view_counts_the_eta_down_from_the_snapshot() -> None:
    updated = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    progress = {
        "status": "VIDEO_STATUS_RENDERING",
        "phase": "PHASE_CHUNKS",
        "percent": 42.5,
        "beats_total": 4,
        "frames_done": 4,
        "chunks_total": 9,
        "chunks_done": 3,
        "cost_micros": 1_250_000,
        "eta_s": 95.0,
        "updated_at": updated.isoformat().replace("+00:00", "Z"),
        "message": "storyboard 4/4 · chunks 3/9",
    }
    assert views.eta_left(progress, updated + timedelta(seconds=20)) == 75.0
    assert views.eta_left(progress, updated + timedelta(seconds=200)) == 0.0
    assert views.eta_left({k: v for k, v in progress.items() if k != "eta_s"}) is None
    console = Console(width=100, record=True)
    console.print(views.live_view("vid-1", progress, now=updated + timedelta(seconds=20)))
    text = console.export_text()
    for shown in ("vid-1", "chunks", "42.5%", "beats 4/4", "chunks 3/9", "$1.25", "1m15s", "storyboard 4/4"):
        assert shown in text, (shown, text)
