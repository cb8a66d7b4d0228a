"""End to end with a voice: the same ad rendered with its voiceover (captions burned in) and without,
both decoded and compared — what the voice adds sits inside the caption cues, the cues carry the
words and are burned in as they are spoken, the delivered file is at the norm's loudness under its
true-peak ceiling (measured by ffmpeg too)."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import av
import httpx
import numpy as np
import pyloudnorm
import pytest
from media_checks import ebur128
from scipy.signal import resample_poly
from test_video_e2e import follow

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("stack")]

PROMPT = "15 second ad for Morning Roast espresso, warm and inviting"
RATE = 48_000
CUE = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d\d\d) --> (\d\d):(\d\d):(\d\d)\.(\d\d\d)$")


def seconds(h: str, m: str, s: str, ms: str) -> float:
    return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def parse_vtt(text: str) -> list[tuple[float, float, str]]:
    assert text.startswith("WEBVTT\n\n")
    cues = []
    for block in text.strip().split("\n\n")[1:]:
        _, timing, *lines = block.split("\n")
        match = CUE.match(timing)
        assert match, timing
        parts = match.groups()
        cues.append((seconds(*parts[:4]), seconds(*parts[4:]), " ".join(lines)))
    return cues


def decoded_audio(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        blocks = [frame.to_ndarray() for frame in container.decode(audio=0)]
    return np.concatenate(blocks, axis=1).T.astype(np.float64)


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


async def render(stack, tmp: Path, key: str, **fields: object) -> dict:
    async with stack.client(key) as client:
        created = await client.post("/v1/videos", json={"prompt": PROMPT, "duration_s": 15, "seed": 5, **fields})
        assert created.status_code == 202, created.text
        video_id = created.json()["id"]
        events = await follow(client, video_id)
        assert events[-1]["progress"]["status"] == "VIDEO_STATUS_COMPLETED", events[-1]
        video = (await client.get(f"/v1/videos/{video_id}")).json()
    rendition = video["renditions"][0]
    path = tmp / f"{video_id}.mp4"
    async with httpx.AsyncClient() as plain:
        path.write_bytes((await plain.get(rendition["download_url"])).content)
        captions = (await plain.get(rendition["captions_url"])).text
    return {"video": video, "path": path, "captions": captions, "events": events}


@pytest.fixture(scope="module")
async def pair(stack, tmp_path_factory):
    tmp = Path(tmp_path_factory.mktemp("voiceover"))
    key = await stack.new_user("voiceover-e2e")
    return await render(stack, tmp, key, captions="burned"), await render(stack, tmp, key, voiceover=False)


async def test_every_beat_has_a_line_and_the_voiceless_ad_none(pair) -> None:
    voiced, silent = pair
    assert all(b["voiceover"].strip() for b in voiced["video"]["spec"]["beats"])
    assert not any(b["voiceover"] for b in silent["video"]["spec"]["beats"])
    progress = [e["progress"] for e in voiced["events"]]
    beats = len(voiced["video"]["spec"]["beats"])
    assert max(p.get("lines_done", 0) for p in progress) == beats
    assert any(f"voice {beats}/{beats}" in p.get("message", "") for p in progress)


async def test_the_captions_carry_the_spoken_words_each_cue_inside_its_beat(pair) -> None:
    voiced, _ = pair
    beats = voiced["video"]["spec"]["beats"]
    cues = parse_vtt(voiced["captions"])
    assert cues
    for start, end, text in cues:
        assert len(text) <= 2 * 42 + 1
        inside = [b for b in beats if b["start_s"] <= start and end <= b["start_s"] + b["duration_s"] + 1e-3]
        assert inside, f"cue {text!r} ({start}-{end} s) is inside no beat"
    spoken = [w for b in beats for w in words(b["voiceover"])]
    captioned = [w for _, _, text in cues for w in words(text)]
    carried = sum(1 for w in spoken if w in captioned)
    assert carried >= 0.9 * len(spoken), (spoken, captioned)


async def test_what_the_voice_adds_is_inside_the_cues(pair) -> None:
    voiced, silent = pair
    a, b = decoded_audio(voiced["path"]), decoded_audio(silent["path"])
    n = min(len(a), len(b))
    assert abs(len(a) - len(b)) <= 2048  # the same length, give or take the codec's last frame
    added = (a[:n] - b[:n]).mean(axis=1)
    inside = np.zeros(n, bool)
    for start, end, _ in parse_vtt(voiced["captions"]):
        inside[round(start * RATE) : round(end * RATE)] = True

    def rms_db(x: np.ndarray) -> float:
        return float(10 * np.log10(np.mean(np.square(x)) + 1e-20))

    assert inside.mean() > 0.3, "the voice speaks through much of the ad"
    assert rms_db(added[inside]) - rms_db(added[~inside]) >= 15.0


async def test_the_delivered_mix_is_at_minus_14_lufs_under_minus_1_dbtp(pair) -> None:
    voiced, _ = pair
    audio = decoded_audio(voiced["path"])
    assert pyloudnorm.Meter(RATE).integrated_loudness(audio) == pytest.approx(-14.0, abs=1.0)
    assert 20 * np.log10(np.max(np.abs(resample_poly(audio, 4, 1, axis=0)))) <= -1.0
    integrated, peak = ebur128(voiced["path"])
    assert integrated == pytest.approx(-14.0, abs=1.0)
    assert peak <= -1.0


def frame_at(path: Path, seconds: float) -> np.ndarray:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            if frame.time is not None and frame.time >= seconds:
                return frame.to_ndarray(format="rgb24").astype(np.int16)
    raise AssertionError(f"no frame at {seconds} s")


async def test_the_words_are_burned_in_as_they_are_spoken(pair) -> None:
    """The two renders share every picture and super, so where they differ is the burned caption: a
    dark plate with white words, more of them late in a cue than at its start, none between cues."""
    voiced, silent = pair
    cues = parse_vtt(voiced["captions"])
    start, end, _ = max(cues, key=lambda c: c[1] - c[0])
    early, late = start + 2 / 24, end - 3 / 24  # whole frames inside the cue, whichever way its ends round
    changed = []
    for at in (early, late):
        a, b = frame_at(voiced["path"], at), frame_at(silent["path"], at)
        mask = np.abs(a - b).max(axis=2) > 40
        changed.append((mask, int((a[mask].min(axis=1) > 200).sum())))
    (_, early_white), (late_mask, late_white) = changed
    assert late_mask.mean() > 0.005, f"a caption is burned in: {cues}, probed {early:.2f} and {late:.2f} s"
    ys, xs = np.nonzero(late_mask)
    height, width = late_mask.shape
    assert ys.min() > 0.03 * height and ys.max() < 0.97 * height and xs.min() > 0 and xs.max() < width - 1
    assert late_white > 100, "white words on the plate"
    assert late_white > early_white, "more words late in the cue than at its start"
    gaps = [(a_end, b_start) for (_, a_end, _), (b_start, _, _) in itertools.pairwise(cues)]
    between = [(x + y) / 2 for x, y in gaps if y - x > 0.5]
    for at in between[:1]:
        assert (np.abs(frame_at(voiced["path"], at) - frame_at(silent["path"], at)).max(axis=2) > 40).mean() < 0.001
