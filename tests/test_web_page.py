"""The web page at `/`, driven in headless Chromium (Debian's package, installed by scripts/debian.sh)
through Playwright: sign in, upload a product image, preview the plan, start a video, watch it
advance and play the result; the same with the event stream blocked, so the page must poll; pick a
voice, hear its sample and start a video spoken by it; stop a video at its storyboard gate, draw one
image again, save an edited headline there, approve it to the end, then edit its words into version 2
and switch between the two; and an expired gate in the history, retried."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import cv2
import httpx
import numpy as np
import pytest
from playwright.async_api import BrowserContext, Page, async_playwright, expect
from test_streams import read_events

from adgen_kernel.serve import Connections
from adgen_planner.plan_edits import TEXT_WORD_CAP
from adgen_planner.reconciler import expire_once
from adgen_video.request_limits import PROMPT_MAX_CHARS, VALID_DURATIONS_S

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("stack")]

CHROMIUM = os.environ.get("ADGEN_CHROMIUM", "/usr/bin/chromium")
# The machine's network is closed: without these Chromium waits on refused connections of its own.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIDEO_TIMEOUT_MS = 300_000
STEP_TIMEOUT_MS = 60_000

# Every value the progress bar shows, in order, recorded by the page itself as it changes.
RECORD_PERCENTS = """
window.percents = [];
document.addEventListener("DOMContentLoaded", () => {
  const bar = document.getElementById("bar");
  new MutationObserver(() => window.percents.push(Number(bar.value)))
    .observe(document.getElementById("percent"), { childList: true, characterData: true, subtree: true });
});
"""


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[BrowserContext]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"no Chromium at {CHROMIUM}: run scripts/debian.sh (or set ADGEN_CHROMIUM)")
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),  # a fresh profile each test
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1100, "height": 900},
        )
        context.set_default_timeout(STEP_TIMEOUT_MS)
        try:
            yield context
        finally:
            await context.close()


class Problems:
    """Uncaught script errors and Content-Security-Policy refusals: each one is a broken page."""

    def __init__(self, page: Page) -> None:
        self.seen: list[str] = []
        page.on("pageerror", lambda error: self.seen.append(f"uncaught: {error}"))
        page.on(
            "console",
            lambda m: self.seen.append(m.text) if m.type == "error" and "Content Security Policy" in m.text else None,
        )


async def open_page(browser: BrowserContext, url: str) -> tuple[Page, Problems]:
    page = await browser.new_page()
    problems = Problems(page)
    await page.add_init_script(RECORD_PERCENTS)
    response = await page.goto(url)
    assert response is not None and response.status == 200
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp
    return page, problems


async def sign_in(page: Page, key: str) -> None:
    await page.get_by_label("API key").fill(key)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#workspace")).to_be_visible()


def product_image(path: Path) -> Path:
    """A red bottle on white, as a PNG."""
    image = np.full((480, 480, 3), 255, np.uint8)
    cv2.rectangle(image, (190, 140), (290, 420), (40, 40, 200), -1)
    cv2.rectangle(image, (215, 80), (265, 140), (30, 30, 30), -1)
    assert cv2.imwrite(str(path), image)
    return path


async def play_result(page: Page) -> float:
    """Waits for the finished video, plays it and returns its duration as the browser decoded it."""
    await expect(page.locator("#result")).to_be_visible(timeout=VIDEO_TIMEOUT_MS)
    player = page.locator("#player")
    await page.wait_for_function("() => document.getElementById('player').readyState >= 2")
    await player.evaluate("v => { v.muted = true; return v.play(); }")
    await page.wait_for_function("() => document.getElementById('player').currentTime > 0.5")
    href = await page.locator("#download").get_attribute("href")
    assert href and href == await player.evaluate("v => v.currentSrc")
    return float(await player.evaluate("v => v.duration"))


async def play_from_history(page: Page, facts: str) -> None:
    """The newest past video, finished: its poster is an image that loads, it says what it is, and it
    plays right there, with its captions track loaded from the store."""
    item = page.locator("#past li").first
    await expect(item).to_contain_text("completed")
    await expect(item.locator(".past-facts")).to_contain_text(facts)
    await page.wait_for_function(
        "() => { const i = document.querySelector('#past li .poster'); return i && i.complete && i.naturalWidth > 0; }"
    )
    download = await item.get_by_role("link", name="Download MP4").get_attribute("href")
    await item.get_by_role("button", name="Play").click()
    player = item.locator("video")
    await expect(player).to_have_count(1)
    await player.evaluate("v => { v.muted = true; return v.play(); }")
    await page.wait_for_function("() => document.querySelector('#past li video').currentTime > 0.5")
    assert download and download == await player.evaluate("v => v.currentSrc")
    # 2 = LOADED: the WebVTT came through (the links are another origin: CORS, crossorigin).
    await page.wait_for_function("() => document.querySelector('#past li video track').readyState === 2")
    assert await player.evaluate("v => v.textTracks[0].kind") == "captions"


async def test_a_wrong_api_key_is_refused_with_a_message(stack, browser) -> None:
    page, problems = await open_page(browser, stack.url)
    await page.get_by_label("API key").fill("adg_not-a-real-key")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#sign-in-error")).to_contain_text("not accepted")
    await expect(page.locator("#workspace")).to_be_hidden()
    assert await page.evaluate("() => sessionStorage.length") == 0, "a refused key is not kept"
    assert problems.seen == []


async def test_page_headers_and_caching(stack) -> None:
    async with httpx.AsyncClient(base_url=stack.url) as client:
        page = await client.get("/")
        script = await client.get("/web/app.js")
        again = await client.get("/web/app.js", headers={"If-None-Match": script.headers["etag"]})
        source = await client.get("/web/__init__.py")
        schema = (await client.get("/openapi.json")).json()
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    store = urlsplit(stack.endpoints.s3_endpoint)
    assert f"media-src 'self' {store.scheme}://{store.netloc}" in csp, "videos come from the store's links"
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert page.headers["cache-control"] == "no-cache"
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert script.headers["cache-control"] == "no-cache"
    assert again.status_code == 304, "unchanged files are revalidated, not sent again"
    assert source.status_code == 404, "only the page's files are served"
    assert "/" not in schema["paths"]


async def test_controls_are_labelled_errors_sit_by_their_field_and_a_phone_fits(stack, browser) -> None:
    key = await stack.new_user(f"web-form-{uuid.uuid4().hex[:8]}")
    page, problems = await open_page(browser, stack.url)
    await page.set_viewport_size({"width": 360, "height": 740})
    await sign_in(page, key)
    unlabelled = await page.evaluate(
        """() => [...document.querySelectorAll('#workspace input, #workspace select, #workspace textarea')]
             .filter(c => c.labels.length === 0).map(c => c.id || c.name)"""
    )
    assert unlabelled == []
    assert await page.evaluate("() => document.documentElement.scrollWidth") <= 360, "no sideways scrolling"
    await expect(page.locator("#model option")).not_to_have_count(1)  # the models beyond the default

    # The server's problem+json names the field; the message appears next to it.
    await page.get_by_label("What is the ad about?").fill("   ")
    await page.get_by_role("button", name="Preview plan").click()
    await expect(page.locator("#prompt-error")).to_contain_text("must not be empty")
    await expect(page.get_by_label("What is the ad about?")).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#plan")).to_be_hidden()

    # Keyboard only: the prompt, then Tab to the length picker.
    await page.get_by_label("What is the ad about?").focus()
    await page.keyboard.press("Tab")
    assert await page.evaluate("() => document.activeElement.id") == "duration"

    # "Auto" says what the length will be, read from the prompt as the planner reads it.
    auto = page.locator("#duration option").first
    await page.get_by_label("What is the ad about?").fill("20 second ad for Morning Roast, a single-origin coffee")
    await expect(auto).to_have_text("Auto — 20 s from your text")
    await page.get_by_label("What is the ad about?").fill("ad for Morning Roast, half a minute")
    await expect(auto).to_have_text("Auto — 30 s from your text")
    await page.get_by_label("What is the ad about?").fill("ad for Morning Roast")
    await expect(auto).to_have_text("Auto — 30 s by default")
    await page.get_by_role("button", name="Preview plan").click()
    await expect(page.locator("#plan-summary")).to_contain_text("30 s")
    await page.get_by_label("What is the ad about?").fill("a 15s spot for Morning Roast")
    await expect(auto).to_have_text("Auto — 15 s from your text")
    await page.get_by_role("button", name="Preview plan").click()
    await expect(page.locator("#plan-summary")).to_contain_text("15 s")
    # The server's limits, not a copy of them (/web/limits.js).
    assert await page.evaluate("() => document.getElementById('prompt').maxLength") == PROMPT_MAX_CHARS
    lengths = await page.locator("#duration option").evaluate_all("os => os.slice(1).map(o => Number(o.value))")
    assert lengths == list(VALID_DURATIONS_S)
    assert problems.seen == []


async def test_pick_a_voice_hear_its_sample_and_start_a_video_in_it(stack, browser) -> None:
    key = await stack.new_user(f"web-voice-{uuid.uuid4().hex[:8]}")
    page, problems = await open_page(browser, stack.url)
    await sign_in(page, key)
    picker = page.get_by_label("Voice", exact=True)
    await expect(picker.locator("option")).to_have_text(["Default (piper-joe)", re.compile(r"\(piper-joe\)$")])
    await picker.select_option("piper-joe")
    await page.get_by_role("button", name="Play sample").click()
    # The sample loads from its pre-signed link (the store's origin, allowed by media-src) and has a length.
    await page.wait_for_function(
        "() => { const a = document.getElementById('voice-sample'); return a.readyState >= 1 && a.duration > 1; }"
    )
    sample = await page.locator("#voice-sample").evaluate("a => a.currentSrc")
    assert urlsplit(sample).path.endswith("/voices/samples/piper-joe.wav"), sample

    # Without a voiceover the picker is off and the plan has no lines; with it, every beat has one.
    voiceover = page.get_by_label("Speak a voiceover line on every beat")
    await page.get_by_label("What is the ad about?").fill("10 second ad for a walnut cutting board")
    await page.get_by_label("Length").select_option("10")
    captions = page.get_by_label("Captions of the voice")
    await expect(captions.locator("option")).to_have_count(3)
    await voiceover.uncheck()
    await expect(picker).to_be_disabled()
    await expect(captions).to_be_disabled()
    await expect(page.get_by_role("button", name="Play sample")).to_be_disabled()
    await page.get_by_role("button", name="Preview plan").click()
    await expect(page.locator("#beats li").first).to_be_visible()
    await expect(page.locator("#beats .line")).to_have_count(0)
    await voiceover.check()
    await page.get_by_role("button", name="Preview plan").click()
    await expect(page.locator("#beats .line")).to_have_count(await page.locator("#beats li").count())

    await captions.select_option("burned")
    await page.get_by_role("button", name="Start").click()
    await expect(page.locator("#watch")).to_be_visible()
    async with stack.client(key) as client:
        (video,) = (await client.get("/v1/videos")).json()["videos"]
        assert video["request"]["voice"] == "piper-joe" and video["request"]["voiceover"] is True
        assert video["request"]["captions"] == "CAPTION_MODE_BURNED"
        await client.post(f"/v1/videos/{video['id']}/cancel")  # not rendered to the end: this is about the page
    assert problems.seen == []


async def test_upload_preview_start_watch_and_play(stack, browser, tmp_path, repo_root) -> None:
    key = await stack.new_user(f"web-{uuid.uuid4().hex[:8]}")
    page, problems = await open_page(browser, stack.url)
    await sign_in(page, key)

    await page.get_by_label("Add product images").set_input_files(product_image(tmp_path / "bottle.png"))
    thumbnail = page.locator("#assets img")
    await expect(thumbnail).to_have_count(1)
    await page.wait_for_function("() => document.querySelector('#assets img').naturalWidth > 0")
    await expect(page.locator("#assets input[type=checkbox]")).to_be_checked()

    await page.get_by_label("What is the ad about?").fill("10 second ad for a red glass bottle of olive oil, warm")
    await page.get_by_label("Length").select_option("10")
    await page.get_by_label("Aspect ratio").select_option("16:9")
    await page.get_by_role("button", name="Preview plan").click()
    await expect(page.locator("#plan")).to_be_visible()
    beats = await page.locator("#beats li").count()
    assert beats >= 1
    await expect(page.locator("#plan-summary")).to_contain_text("10 s")
    await expect(page.locator("#quote")).to_contain_text("Estimated cost")

    await page.get_by_role("button", name="Start").click()
    await expect(page.locator("#watch")).to_be_visible()
    # Storyboard thumbnails appear as each beat is drawn: one loaded image per beat of the plan.
    await page.wait_for_function(
        "n => [...document.querySelectorAll('#frames img')].filter(i => i.complete && i.naturalWidth > 0).length === n",
        arg=beats,
        timeout=VIDEO_TIMEOUT_MS,
    )
    duration = await play_result(page)
    assert abs(duration - 10.0) < 0.2, duration

    percents = await page.evaluate("() => window.percents")
    assert percents == sorted(percents), f"the bar went backwards: {percents}"
    assert percents[-1] == 100.0
    assert len({p for p in percents if 0 < p < 100}) >= 2, f"no progress in between: {percents}"
    assert await page.locator("#transport").get_attribute("data-mode") == "sse"
    chunks = page.locator("#chunks li")
    assert await chunks.count() >= 1
    await expect(page.locator("#chunks li:not(.done)")).to_have_count(0)
    await expect(page.locator("#status")).to_contain_text("Completed")
    await play_from_history(page, "10 s · 16:9 · $0.00 · version 1")

    shot = tmp_path / "web-page.png"
    await page.screenshot(path=str(shot), full_page=True)
    artifacts = repo_root / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    shutil.copy(shot, artifacts / "web-page.png")
    if os.environ.get("ADGEN_UPDATE_DOCS_SCREENSHOT"):  # the README's picture of the page
        shutil.copy(shot, repo_root / "docs" / "web-page.png")
    assert shot.stat().st_size > 10_000
    assert problems.seen == []


async def test_a_video_opened_mid_render_never_moves_the_bar_back(stack, browser) -> None:
    """The event stream replays a video's history from its start, each event with the progress of its
    time; a page opened on a running video has shown the current progress already, so the replayed
    older snapshots must not pull the bar back to 0."""
    key = await stack.new_user(f"web-mid-{uuid.uuid4().hex[:8]}")
    prompt = "10 second ad for a cast iron skillet, sizzling"
    async with stack.client(key) as client:
        created = await client.post("/v1/videos", json={"prompt": prompt, "duration_s": 10})
        assert created.status_code == 202, created.text
        video_path = f"/v1/videos/{created.json()['id']}"
        for _ in range(1200):
            if (await client.get(video_path)).json()["progress"].get("percent", 0) > 0:
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail("the video never progressed")
    page, problems = await open_page(browser, stack.url)
    await sign_in(page, key)
    await page.get_by_role("button", name=prompt, exact=True).click()
    duration = await play_result(page)
    assert abs(duration - 10.0) < 0.2, duration
    assert await page.locator("#transport").get_attribute("data-mode") == "sse", "followed by the stream"
    percents = await page.evaluate("() => window.percents")
    assert percents[0] > 0, percents
    assert percents == sorted(percents), f"the bar went backwards: {percents}"
    assert percents[-1] == 100.0
    assert problems.seen == []


async def test_without_the_event_stream_the_page_polls_to_the_end(stack, browser) -> None:
    key = await stack.new_user(f"web-poll-{uuid.uuid4().hex[:8]}")
    page, problems = await open_page(browser, stack.url)
    blocked: list[str] = []

    async def refuse(route) -> None:
        blocked.append(route.request.url)
        await route.abort()

    await page.route("**/v1/videos/*/events*", refuse)
    await sign_in(page, key)
    await page.get_by_label("What is the ad about?").fill("10 second ad for trail running sneakers")
    await page.get_by_label("Length").select_option("10")
    await page.get_by_role("button", name="Start").click()
    await expect(page.locator("#transport")).to_have_attribute("data-mode", "polling")
    duration = await play_result(page)
    assert abs(duration - 10.0) < 0.2, duration
    assert blocked, "the page tried the event stream first"
    await expect(page.locator("#status")).to_contain_text("Completed")
    assert problems.seen == []


async def test_cancel_then_retry_from_the_page(stack, browser) -> None:
    key = await stack.new_user(f"web-retry-{uuid.uuid4().hex[:8]}")
    page, problems = await open_page(browser, stack.url)
    await sign_in(page, key)
    await page.get_by_label("What is the ad about?").fill("10 second ad for a brass desk lamp")
    await page.get_by_label("Length").select_option("10")
    await page.get_by_role("button", name="Start").click()
    watch = page.locator("#watch")
    await watch.get_by_role("button", name="Cancel").click()
    await expect(page.locator("#failure")).to_contain_text("cancelled")
    await expect(page.locator("#status")).to_contain_text("Cancelled")
    await expect(watch.get_by_role("button", name="Cancel")).to_be_hidden()
    await expect(page.locator("#past li").first).to_contain_text("Cancelled.")

    await watch.get_by_role("button", name="Retry", exact=True).click()
    duration = await play_result(page)
    assert abs(duration - 10.0) < 0.2, duration
    await expect(page.locator("#failure")).to_be_hidden()
    await expect(page.locator("#status")).to_contain_text("Completed")
    assert problems.seen == []


async def test_a_failed_video_in_the_history_says_why_and_retries(stack, browser) -> None:
    key = await stack.new_user(f"web-failed-{uuid.uuid4().hex[:8]}")
    prompt = "10 second ad for a linen tote bag"
    async with stack.client(key) as client:
        created = await client.post("/v1/videos", json={"prompt": prompt, "duration_s": 10})
        assert created.status_code == 202, created.text
        video_id = created.json()["id"]
        assert (await client.post(f"/v1/videos/{video_id}/cancel")).status_code == 202
    # A provider's failure, as the workers record it (kernel video_state.fail_video).
    db = await asyncpg.connect(stack.endpoints.database_url)
    try:
        await db.execute(
            "UPDATE videos SET status = 'failed', error = 'chunk 2: the provider timed out',"
            " failed_phase = 'PHASE_CHUNKS' WHERE video_id = $1",
            video_id,
        )
    finally:
        await db.close()
    page, problems = await open_page(browser, stack.url)
    await sign_in(page, key)
    item = page.locator("#past li").first
    await expect(item.locator(".badge")).to_have_text("failed")
    await expect(item).to_contain_text("Failed: chunk 2: the provider timed out")
    await expect(item.locator(".past-facts")).to_contain_text("version 1")
    await item.get_by_role("button", name="Retry").click()
    await expect(page.locator("#watch")).to_be_visible()
    await expect(page.locator("#past li").first.locator(".past-facts")).to_contain_text("version 1 · run 2")
    await expect(page.locator("#status")).not_to_contain_text("Failed")
    async with stack.client(key) as client:  # not rendered to the end: this test is about the page
        await client.post(f"/v1/videos/{video_id}/cancel")
    assert problems.seen == []


# Every loaded image of the review board, by its beat.
BOARD_IMAGES = """() => Object.fromEntries([...document.querySelectorAll('#board li')]
  .map(li => [li.dataset.beat, li.querySelector('img')])
  .filter(([, i]) => i && i.complete && i.naturalWidth > 0).map(([beat, i]) => [beat, i.src]))"""


async def test_review_the_storyboard_draw_a_beat_again_approve_play_and_make_version_2(
    stack, browser, tmp_path, repo_root
) -> None:
    key = await stack.new_user(f"web-gate-{uuid.uuid4().hex[:8]}")
    page, problems = await open_page(browser, stack.url)
    await sign_in(page, key)
    await page.get_by_label("What is the ad about?").fill("10 second ad for a copper kettle, morning light")
    await page.get_by_label("Length").select_option("10")
    review = page.get_by_label("Review before paying")
    await expect(review.locator("option")).to_have_text(
        ["No, render straight through", "After the plan", "After the storyboard"]
    )
    await review.focus()  # a picker like the others: the keyboard chooses
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("ArrowDown")
    await expect(review).to_have_value("storyboard")
    await page.get_by_role("button", name="Start").click()

    gate = page.locator("#gate")
    await expect(gate).to_be_visible(timeout=VIDEO_TIMEOUT_MS)
    await expect(page.locator("#status")).to_contain_text("Waiting for your review")
    # The voice may still speak at the gate, and the quote shrinks with each line: it settles first.
    await expect(page.locator("#gate-summary")).to_contain_text(re.compile(r"(\d+) of \1 voice lines are spoken"))
    async with stack.client(key) as client:
        (listed,) = (await client.get("/v1/videos")).json()["videos"]
        video_path = f"/v1/videos/{listed['id']}"
        waiting = (await client.get(video_path)).json()
    assert waiting["status"] == "awaiting_review" and waiting["review"]["stage"] == "storyboard", waiting
    beats = waiting["spec"]["beats"]
    quote = waiting["review"]["quote"]
    assert quote, "the rest is quoted"
    # One card per beat with its image and words (those on screen to edit, the spoken line as it is);
    # what was spent, the quote of the rest and the expiry.
    cards = page.locator("#board li")
    await expect(cards).to_have_count(len(beats))
    await page.wait_for_function(f"() => Object.keys(({BOARD_IMAGES})()).length === {len(beats)}")
    for index, beat in enumerate(beats):
        card = cards.nth(index)
        await expect(card.locator(".take")).to_have_text("Take 1")
        for name, label in (("headline", "Headline"), ("subline", "Subline")):
            await expect(card.get_by_label(f"{label} of beat {index + 1}")).to_have_value(beat.get(name, ""))
        if beat["voiceover"]:
            await expect(card).to_contain_text(beat["voiceover"])
    await expect(gate.get_by_label(re.compile(r"^Voiceover of beat"))).to_have_count(0)  # spoken already
    await expect(page.locator("#gate-spent")).to_have_text(f"${waiting['review']['spent_usd']:.2f}")
    await expect(page.locator("#gate-quote")).to_have_text(f"${waiting['review']['quote_usd']:.2f}")
    await expect(page.locator("#gate-lines li")).to_have_count(len(quote))
    for line in quote:
        await expect(page.locator("#gate-lines")).to_contain_text(f"{line['phase']}: {line['units']} ×")
    expires = page.locator("#gate-expires time")
    await expect(expires).to_have_attribute("datetime", waiting["review"]["expires_at"])

    # An edited prompt the gateway refuses: its message sits by the prompt.
    first = cards.nth(0)
    prompt = first.get_by_label("Image prompt of beat 1")
    await prompt.fill("kettle " * 40)
    await first.get_by_role("button", name="Draw again: beat 1").click()
    await expect(first.locator("#board-error-0")).to_contain_text("prompt")
    await expect(prompt).to_have_attribute("aria-invalid", "true")
    before = await page.evaluate(BOARD_IMAGES)

    new_prompt = "copper kettle on a stone counter, steam rising"
    await prompt.fill(new_prompt)
    await first.get_by_role("button", name="Draw again: beat 1").click()
    await expect(first.locator("#board-error-0")).to_be_empty()
    await expect(first).to_have_attribute("data-take", "1", timeout=VIDEO_TIMEOUT_MS)
    await expect(first.locator(".take")).to_have_text("Take 2")
    await page.wait_for_function(
        f"old => {{ const now = ({BOARD_IMAGES})(); return now['0'] && now['0'] !== old; }}", arg=before["0"]
    )
    after = await page.evaluate(BOARD_IMAGES)
    assert {beat: src for beat, src in after.items() if beat != "0"} == {
        beat: src for beat, src in before.items() if beat != "0"
    }, "only the redrawn card changed"
    async with stack.client(key) as client:
        frames = (await client.get(f"{video_path}/frames")).json()["frames"]
        assert [f["take"] for f in frames] == [1, *[0] * (len(beats) - 1)], frames
        drawn = (await client.get(video_path)).json()
        assert drawn["spec"]["beats"][0]["prompt"] == new_prompt

    await edit_words_at_the_gate(page, stack, key, video_path, drawn)
    await gate.get_by_role("button", name="Approve and render").click()
    await expect(gate).to_be_hidden()
    duration = await play_result(page)
    assert abs(duration - 10.0) < 0.2, duration
    await expect(page.locator("#status")).to_contain_text("Completed")
    await expect(page.locator("#past li").first.locator(".badge")).to_have_text("completed")

    await edit_words_into_version_2(page, stack, key, video_path, tmp_path, repo_root)
    assert problems.seen == []


async def edit_words_at_the_gate(page: Page, stack, key: str, video_path: str, drawn: dict) -> None:
    """The storyboard gate's words, edited: a headline the planner refuses says why by its input; one
    changed headline is saved alone on the current plan revision, the card shows it as saved and the
    quote shown is the answer's."""
    sent: list[object] = []

    def record(request) -> None:
        if request.method == "PATCH":
            sent.append(request.post_data_json)

    page.on("request", record)
    gate = page.locator("#gate")
    headline = gate.get_by_label("Headline of beat 1")
    save = gate.get_by_role("button", name="Save edits")

    too_long = " ".join(f"word{n}" for n in range(TEXT_WORD_CAP + 1))
    await headline.fill(too_long)
    await save.click()
    await expect(page.locator("#gate-headline-0-error")).to_contain_text(f"at most {TEXT_WORD_CAP} words")
    await expect(headline).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#gate-subline-0-error")).to_be_empty()

    # Blanked here, the quote can only come back from the answer to the save.
    await page.locator("#gate-quote").evaluate("node => { node.textContent = ''; }")
    new_headline = "Copper kettle, first light"
    await headline.fill(f"  {new_headline}  ")
    async with page.expect_response(lambda response: response.request.method == "PATCH") as answered:
        await save.click()
    saved = await (await answered.value).json()
    page.remove_listener("request", record)
    revision = drawn["plan_revision"]
    assert sent == [
        {"plan_revision": revision, "beats": [{"index": 0, "headline": too_long}]},
        {"plan_revision": revision, "beats": [{"index": 0, "headline": new_headline}]},
    ], sent
    await expect(page.locator("#gate-quote")).to_have_text(f"${saved['review']['quote_usd']:.2f}")
    await expect(page.locator("#gate-lines li")).to_have_count(len(saved["review"]["quote"]))
    await expect(headline).to_have_value(new_headline)  # the words as saved, trimmed
    await expect(headline).not_to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#gate-headline-0-error")).to_be_empty()
    async with stack.client(key) as client:
        now = (await client.get(video_path)).json()
    assert now["plan_revision"] == revision + 1 == saved["plan_revision"], now
    assert now["spec"]["beats"][0]["headline"] == new_headline, now["spec"]
    assert [b.get("subline", "") for b in now["spec"]["beats"]] == [
        b.get("subline", "") for b in drawn["spec"]["beats"]
    ], "only the headline was sent"


async def edit_words_into_version_2(page: Page, stack, key: str, video_path: str, tmp_path: Path, repo_root: Path):
    """The finished video's words, edited: a headline the planner refuses says why by its input; one
    changed headline (sent alone, on the current plan revision) makes version 2, which the page
    follows to its end on the stream and plays; the switcher then plays either version's file."""
    async with stack.client(key) as client:
        finished = (await client.get(video_path)).json()
    assert finished["version"] == 1, finished
    edit = page.locator("#edit")
    await expect(edit).to_be_visible()
    await expect(page.locator("#versions")).to_be_hidden()  # one version: nothing to switch
    for index, beat in enumerate(finished["spec"]["beats"]):
        await expect(edit.get_by_label(f"Headline of beat {index + 1}")).to_have_value(beat.get("headline") or "")
        await expect(edit.get_by_label(f"Subline of beat {index + 1}")).to_have_value(beat.get("subline") or "")
    sent: list[object] = []
    page.on("request", lambda request: sent.append(request.post_data_json) if request.method == "PATCH" else None)
    headline = edit.get_by_label("Headline of beat 1")
    make = edit.get_by_role("button", name="Make version 2")

    too_long = " ".join(f"word{n}" for n in range(TEXT_WORD_CAP + 1))
    await headline.fill(too_long)
    await make.click()
    await expect(page.locator("#edit-headline-0-error")).to_contain_text(f"at most {TEXT_WORD_CAP} words")
    await expect(headline).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#edit-subline-0-error")).to_be_empty()

    new_headline = "Copper kettle mornings"
    await headline.fill(new_headline)
    await make.click()
    # The panel comes back once version 2 is done, offering the third.
    await expect(edit.get_by_role("button", name="Make version 3")).to_be_visible(timeout=VIDEO_TIMEOUT_MS)
    revision = finished["plan_revision"]
    assert sent == [
        {"plan_revision": revision, "beats": [{"index": 0, "headline": too_long}]},
        {"plan_revision": revision, "beats": [{"index": 0, "headline": new_headline}]},
    ], sent
    duration = await play_result(page)
    assert abs(duration - 10.0) < 0.2, duration
    await expect(page.locator("#status")).to_contain_text("Completed")
    # The stream replays version 1's end first: taken for the end, it would have handed over to polling.
    assert await page.locator("#transport").get_attribute("data-mode") == "sse"
    await expect(edit.get_by_label("Headline of beat 1")).to_have_value(new_headline)

    async with stack.client(key) as client:
        made = (await client.get(video_path)).json()
        assert made["version"] == 2 and made["spec"]["beats"][0]["headline"] == new_headline, made
        listed = (await client.get(f"{video_path}/versions")).json()["versions"]
        assert [v["version"] for v in listed] == [1, 2], listed
        # Each version's file, as the API's download of that version names it.
        files = {}
        for version in (1, 2):
            answer = await client.get(f"{video_path}/download", params={"version": version})
            assert answer.status_code == 302, answer.text
            files[version] = urlsplit(answer.headers["location"]).path
    assert files[1] != files[2], files
    player = page.locator("#player")
    picker = page.get_by_label("Version", exact=True)
    await expect(picker.locator("option")).to_have_text(["Version 1", "Version 2"])
    await expect(picker).to_have_value("2")
    assert urlsplit(await player.evaluate("v => v.currentSrc")).path == files[2]

    # The switcher and the panel at phone width: labelled, no sideways scrolling; the docs' picture.
    await player.evaluate("v => v.pause()")
    await page.set_viewport_size({"width": 390, "height": 844})
    unlabelled = await page.evaluate(
        "() => [...document.querySelectorAll('#result input, #result select')].filter(c => !c.labels.length)"
        ".map(c => c.id)"
    )
    assert unlabelled == []
    assert await page.evaluate("() => document.documentElement.scrollWidth") <= 390, "no sideways scrolling"
    shot = tmp_path / "web-versions.png"
    await page.locator("#result").screenshot(path=str(shot))
    artifacts = repo_root / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    shutil.copy(shot, artifacts / "web-versions.png")
    if os.environ.get("ADGEN_UPDATE_DOCS_SCREENSHOT"):
        shutil.copy(shot, repo_root / "docs" / "web-versions.png")
    assert shot.stat().st_size > 10_000
    await page.set_viewport_size({"width": 1100, "height": 900})

    await picker.select_option("1")
    await page.wait_for_function(
        "path => new URL(document.getElementById('player').currentSrc).pathname === path", arg=files[1]
    )
    await player.evaluate("v => { v.muted = true; return v.play(); }")
    await page.wait_for_function("() => document.getElementById('player').currentTime > 0.5")
    assert await page.locator("#download").get_attribute("href") == await player.evaluate("v => v.currentSrc")

    # A new tab plays every version too: the versions list signs each one's links.
    await page.reload()
    await expect(page.locator("#workspace")).to_be_visible()
    await page.locator("#past li").first.locator("button.link").click()
    await expect(picker.locator("option")).to_have_text(["Version 1", "Version 2"])
    assert urlsplit(await player.evaluate("v => v.currentSrc")).path == files[2], "the latest is shown first"
    await picker.select_option("1")
    await page.wait_for_function(
        "path => new URL(document.getElementById('player').currentSrc).pathname === path", arg=files[1]
    )
    await expect(page.locator("#versions-hint")).to_have_text("")


async def test_an_expired_gate_in_the_history_says_so_and_a_retry_opens_it_again(
    stack, browser, db, connections: Connections
) -> None:
    key = await stack.new_user(f"web-expired-{uuid.uuid4().hex[:8]}")
    prompt = "10 second ad for a wool scarf"
    async with stack.client(key) as client:
        created = await client.post("/v1/videos", json={"prompt": prompt, "duration_s": 10, "review": "plan"})
        assert created.status_code == 202, created.text
        video_id = created.json()["id"]
        events = await asyncio.wait_for(
            read_events(client, f"/v1/videos/{video_id}/events", stop_on="review_reached"), 90
        )
        assert events[-1].kind == "review_reached", [e.kind for e in events]
    await db.execute(
        "UPDATE videos SET review_expires_at = now() - interval '1 second' WHERE video_id = $1", uuid.UUID(video_id)
    )
    assert video_id in await expire_once(connections.db, connections.js)

    page, problems = await open_page(browser, stack.url)
    await sign_in(page, key)
    item = page.locator("#past li").first
    await expect(item.locator(".badge")).to_have_text("expired")
    await expect(item).to_contain_text("Expired: it waited at its review gate past its time")
    await page.get_by_role("button", name=prompt, exact=True).click()
    await expect(page.locator("#failure")).to_contain_text("review gate past its time")
    await expect(page.locator("#status")).to_contain_text("Expired")
    await expect(page.locator("#gate")).to_be_hidden()

    await item.get_by_role("button", name="Retry").click()
    # The plan gate again: the beats' words, no images yet.
    await expect(page.locator("#gate")).to_be_visible()
    await expect(page.locator("#gate-summary")).to_contain_text("Stopped after the plan")
    await expect(page.locator("#failure")).to_be_hidden()
    await expect(page.locator("#past li").first.locator(".past-facts")).to_contain_text("version 1 · run 2")
    async with stack.client(key) as client:
        video = (await client.get(f"/v1/videos/{video_id}")).json()
        assert video["status"] == "awaiting_review" and video["review"]["stage"] == "plan", video
        beats = video["spec"]["beats"]
        cards = page.locator("#board li")
        await expect(cards).to_have_count(len(beats))
        for index, beat in enumerate(beats):
            await expect(cards.nth(index)).to_contain_text(beat["prompt"])
        await expect(page.locator("#board img")).to_have_count(0)
        await expect(page.locator("#board button")).to_have_count(0)
        await client.post(f"/v1/videos/{video_id}/cancel")  # not rendered to the end: this is about the page
    assert problems.seen == []
