"""The pure parts of the CLI: the exit-code mapping, which MP4 a download fetches, the live view,
what a plan edit sends and where following a new version stops."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rich.console import Console

from adgen_cli import views
from adgen_cli.outcome import CliError, ExitCode, exit_code_for_status
from adgen_cli.videos import at_rest, beat_edit, completed_version, download_link, ratio_key


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


def test_a_version_asked_for_is_fetched_through_the_gateway_by_number() -> None:
    signed = "https://store.example/v1-9x16.mp4?signature=latest"
    video = {
        "id": "v1",
        "status": "completed",
        "version": 2,
        "request": {"aspect_ratio": "ASPECT_RATIO_16_9"},
        "renditions": [
            {"aspect_ratio": "16:9", "download_url": "https://store.example/v1.mp4?signature=latest"},
            {"aspect_ratio": "9:16", "download_url": signed},
        ],
    }
    assert download_link(video, "9:16") == (signed, "9:16"), "the latest version's own link"
    assert download_link(video, None, 1) == ("/v1/videos/v1/download?version=1", "16:9")
    assert download_link(video, "16:9", 1) == ("/v1/videos/v1/download?version=1", "16:9")
    assert download_link(video, "9:16", 1) == ("/v1/videos/v1/download?version=1&aspect_ratio=9%3A16", "9:16")
    with pytest.raises(CliError) as refused:
        download_link(video, "1:1", 1)
    assert refused.value.exit_code == ExitCode.BAD_INPUT and refused.value.fields[0]["field"] == "aspect_ratio"
    # While version 3 is made its renditions have no links yet: the gateway serves the last completed.
    making = {**video, "status": "refining", "version": 3, "renditions": [{"aspect_ratio": "9:16"}]}
    assert download_link(making, "9:16") == ("/v1/videos/v1/download?aspect_ratio=9%3A16", "9:16")


def test_the_version_a_download_gets_is_the_last_completed_one() -> None:
    assert completed_version({"status": "completed", "version": 2}) == 2
    assert completed_version({"status": "refining", "version": 2}) == 1
    assert completed_version({"status": "failed", "version": 3}) == 2
    assert completed_version({"status": "rendering", "version": 1}) == 0
    assert completed_version({"status": "cancelled"}) == 0


def test_following_a_new_version_does_not_stop_at_the_one_before() -> None:
    done_v1 = {"status": "completed", "version": 1}
    assert at_rest(done_v1) and at_rest(done_v1, 1)
    assert not at_rest(done_v1, 2), "version 1's completion is not version 2's end"
    assert at_rest({"status": "completed", "version": 2}, 2)
    assert at_rest({"status": "failed", "version": 2}, 2)
    assert not at_rest({"status": "refining", "version": 2}, 2)
    assert at_rest({"status": "awaiting_review", "version": 1})


def test_a_plan_edit_sends_only_the_fields_given() -> None:
    fields = {"headline": "Slow mornings", "subline": None, "prompt": None, "camera_movement": "slow_dolly_in"}
    assert beat_edit(2, fields) == {"index": 2, "headline": "Slow mornings", "camera_movement": "slow_dolly_in"}
    assert beat_edit(0, {"subline": ""}) == {"index": 0, "subline": ""}, "an empty subline clears it"
    with pytest.raises(CliError) as nothing:
        beat_edit(1, {"headline": None, "prompt": None})
    assert nothing.value.exit_code == ExitCode.BAD_INPUT and "beat 1" in nothing.value.message


def test_after_an_edit_the_next_steps_follow_from_where_the_video_is() -> None:
    making = views.edit_next_steps({"id": "v1", "status": "refining", "version": 2})
    assert [step.split(":")[0] for step in making] == ["follow it", "fetch it"]
    assert making[0].endswith("adgen videos show v1 --follow") and making[1].endswith("adgen videos download v1")
    assert [s.split(":")[0] for s in views.edit_next_steps({"id": "v1", "status": "completed"})] == ["fetch it"]
    assert views.edit_next_steps({"id": "v1", "status": "failed", "version": 2}) == []
    gate = {"id": "v1", "status": "awaiting_review", "review": {"stage": "plan"}}
    assert views.edit_next_steps(gate) == views.review_next_steps(gate) and "approve" in views.edit_next_steps(gate)[0]


def test_versions_table_and_the_version_in_the_detail() -> None:
    listed: list[dict] = [
        {"version": 1, "plan_revision": 1, "completed_at": "2026-01-01T12:00:00Z", "cost": {"total_usd": 1.5}},
        {"version": 2, "plan_revision": 3, "completed_at": "2026-01-01T12:05:00Z", "cost": {"total_usd": 0.25}},
    ]
    console = Console(width=100, record=True)
    console.print(views.versions_table(listed))
    rows = [[cell.strip() for cell in line.split("│")] for line in console.export_text().splitlines() if "│" in line]
    assert rows == [
        ["1", "1", views.when(listed[0]["completed_at"]), "$1.50"],
        ["2", "3", views.when(listed[1]["completed_at"]), "$0.25"],
    ], rows

    for version, shown in ((1, False), (2, True)):
        detail = Console(width=100, record=True)
        detail.print(views.video_detail({"id": "v1", "status": "completed", "version": version}))
        assert ("adgen videos versions v1" in detail.export_text()) is shown, version


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
