"""The chaos run: videos through the gateway of a real stack of processes while it is being broken.

`ChaosPlan.draw` decides *what* happens *when* (a pure function of a seed): every service process
killed with SIGKILL once and restarted, NATS restarted, Postgres restarted, S3 stopped for a few
seconds, and NATS restarted with its data directory deleted (streams, consumers and KV gone, so
the services must rebuild the topology and the reconciler must find the lost work in Postgres).
`run_chaos` carries a plan out against a `DevStack` whose providers are the local fake OpenAI and
Replicate servers (threads of this process, so they outlive every kill), injecting provider faults
at `fault_rate`; one video is refused by its video model for good, must fail with a clear reason,
and then completes after `POST /v1/videos/{id}/retry`. `ChaosResult` holds what was checked;
`problems()` lists every broken promise (empty when the run is clean).

Used by tests/test_chaos.py (small) and bench/bench_chaos.py (`make chaos`, 20 videos, 30 % faults).
"""

from __future__ import annotations

import asyncio
import random
import shutil
import signal
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import asyncpg
import httpx
import nats
from fakes.faults import Faults
from fakes.openai_api import FakeOpenAI, answer
from fixtures.replicate import replicate_fake
from media_checks import decode

from adgen_cli.stack import SERVICES, DevStack, create_user, object_store
from adgen_embedded.ports import free_port
from adgen_kernel.jetstream import WORK_STREAM
from adgen_video import keys
from adgen_video.video_state import FINISHED

ActionKind = Literal["kill", "restart_nats", "restart_postgres", "s3_outage", "wipe_nats"]
VIDEO_MODEL = "wan"  # 5 s clips at 16 fps: small files for the fake to encode
CLIP_SIZE = (208, 120)
PROMPTS = (
    "ad for a ceramic coffee mug, calm morning",
    "ad for trail running sneakers, energetic",
    "ad for a titanium watch, luxury feel",
    "ad for a citrus energy drink, summer",
    "ad for noise cancelling headphones, minimal",
)
# A plan the fake OpenAI answers with: valid for a 10 s request (else the planner's rules take over).
LLM_PLAN = {
    "archetype_id": "minimalist_reveal",
    "product_name": "ceramic mug",
    "brand": "",
    "call_to_action": "Order yours",
    "style": {"aesthetic": "clean, modern", "mood": "minimal"},
    "beats": [
        {"beat_id": "hero_shot", "duration_s": 5, "prompt": "a white mug on oak", "headline": "Mug", "subline": ""},
        {"beat_id": "call_to_action", "duration_s": 5, "prompt": "the mug centred", "headline": "Order", "subline": ""},
    ],
}


@dataclass(frozen=True)
class Action:
    at_s: float
    kind: ActionKind
    target: str = ""  # the service of a kill
    hold_s: float = 0.0  # how long S3 stays away

    def describe(self) -> str:
        what = f"kill -9 {self.target}" if self.kind == "kill" else self.kind.replace("_", " ")
        return f"t+{self.at_s:5.1f}s {what}" + (f" for {self.hold_s:g}s" if self.hold_s else "")


@dataclass(frozen=True)
class ChaosPlan:
    actions: tuple[Action, ...]

    @classmethod
    def draw(cls, seed: int, window_s: float, *, s3_outage_s: float = 4.0) -> ChaosPlan:
        """Every action once, in a random order, at random points spread over `window_s`: the
        window is cut into one slot per action so that two never overlap."""
        rng = random.Random(seed)
        actions: list[tuple[ActionKind, str]] = [("kill", name) for name in SERVICES]
        actions += [("restart_nats", ""), ("restart_postgres", ""), ("s3_outage", ""), ("wipe_nats", "")]
        rng.shuffle(actions)
        slot = window_s / len(actions)
        planned = [
            Action(
                round(i * slot + rng.uniform(0.1, 0.6) * slot, 1),
                kind,
                target,
                s3_outage_s if kind == "s3_outage" else 0.0,
            )
            for i, (kind, target) in enumerate(actions)
        ]
        return cls(tuple(planned))


@dataclass(frozen=True)
class ChaosConfig:
    videos: int = 4
    fault_rate: float = 0.3
    seed: int = 1
    duration_s: int = 10
    window_s: float = 90.0  # the actions and the submissions are spread over this
    timeout_s: float = 900.0  # for every video to end, after the window
    refuse_one: bool = True  # one video's model refuses it for good, then it is retried


@dataclass
class VideoOutcome:
    video_id: str
    status: str = ""
    error: str = ""
    retried: bool = False
    duration_s: float = 0.0
    decoded_s: float = 0.0
    frames: int = 0
    planned_frames: int = 0


@dataclass
class ChaosResult:
    config: ChaosConfig
    plan: ChaosPlan
    videos: list[VideoOutcome] = field(default_factory=list)
    failed_with_reason: list[tuple[str, str]] = field(default_factory=list)  # (video, error) before the retry
    actions_done: list[str] = field(default_factory=list)
    kills_survived: int = 0
    lost: int = 0  # videos that never ended
    duplicate_charges: int = 0  # units the provider completed (was paid for) more than once
    ledger_rows: int = 0
    billable_units: int = 0
    ledger_mismatch: list[str] = field(default_factory=list)
    unacked_work: int = 0
    orphaned_objects: list[str] = field(default_factory=list)
    faults_injected: dict[str, int] = field(default_factory=dict)
    provider_paid: dict[str, int] = field(default_factory=dict)
    untracked_predictions: dict[str, int] = field(default_factory=dict)  # model -> paid beyond the ledger
    wall_s: float = 0.0

    @property
    def completed(self) -> int:
        return sum(1 for v in self.videos if v.status == "completed")

    def problems(self) -> list[str]:
        found = [f"{v.video_id} ended {v.status}: {v.error}" for v in self.videos if v.status != "completed"]
        found += [
            f"{v.video_id} decodes to {v.frames} frames ({v.decoded_s:.3f} s), planned {v.planned_frames}"
            for v in self.videos
            if v.status == "completed" and v.frames != v.planned_frames
        ]
        if self.lost:
            found.append(f"{self.lost} videos never ended")
        if self.kills_survived < len(SERVICES):
            found.append(f"only {self.kills_survived} of {len(SERVICES)} killed services came back")
        if self.duplicate_charges:
            found.append(f"{self.duplicate_charges} units paid twice at the provider")
        found += self.ledger_mismatch
        if self.unacked_work:
            found.append(f"{self.unacked_work} work messages left in {WORK_STREAM}")
        found += [f"orphaned object {key}" for key in self.orphaned_objects]
        return found

    def lines(self) -> list[str]:
        return [
            f"videos submitted {len(self.videos)}, completed {self.completed}, "
            f"failed with a reason (then retried) {len(self.failed_with_reason)}",
            *(f"  failed {video}: {reason}" for video, reason in self.failed_with_reason),
            f"actions: {len(self.actions_done)}; kills survived {self.kills_survived}/{len(SERVICES)}",
            *(f"  {line}" for line in self.actions_done),
            f"lost videos {self.lost}; unacked work messages {self.unacked_work}",
            f"ledger rows {self.ledger_rows} for {self.billable_units} billable units; "
            f"duplicate charges {self.duplicate_charges}",
            f"orphaned objects {len(self.orphaned_objects)}",
            f"provider faults injected {self.faults_injected}",
            f"predictions paid {self.provider_paid}; beyond the ledger (untagged) {self.untracked_predictions}",
            f"wall time {self.wall_s:.0f} s",
        ]


class Fakes:
    """The fake providers, in threads of this process: they outlive every service kill."""

    def __init__(self, fault_rate: float, seed: int) -> None:
        # Held answers (timeouts) must outlast the clients' request timeouts (see `stack_env`).
        self.replicate = replicate_fake(Faults(rate=fault_rate, seed=seed, timeout_s=3.0), CLIP_SIZE)
        self.openai = FakeOpenAI(Faults(rate=fault_rate, seed=seed + 1, timeout_s=3.0), default=answer(LLM_PLAN))

    def __enter__(self) -> Fakes:
        self.replicate.start()
        self.openai.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.openai.stop()
        self.replicate.stop()


def stack_env(fakes: Fakes) -> dict[str, str]:
    """Providers at the fakes, short timings: acks, drains, reconciling, retries and polls."""
    return {
        "ADGEN_OPENAI_API_KEY": "sk-chaos",
        "ADGEN_OPENAI_BASE_URL": fakes.openai.base_url,
        "ADGEN_OPENAI_TIMEOUT_S": "2",
        "ADGEN_OPENAI_MAX_RETRIES": "3",
        "ADGEN_REPLICATE_API_TOKEN": fakes.replicate.token,
        "ADGEN_REPLICATE_BASE_URL": fakes.replicate.url,
        "ADGEN_REPLICATE_REQUEST_TIMEOUT_S": "2",
        "ADGEN_REPLICATE_BACKOFF_S": "0.2",
        "ADGEN_REPLICATE_POLL_INTERVAL_S": "0.2",
        "ADGEN_REPLICATE_LONGEST_POLL_S": "1",
        "ADGEN_REPLICATE_TIMEOUT_S": "60",
        "ADGEN_MUSIC_PROVIDER": "replicate",
        "ADGEN_ACK_WAIT_S": "4",
        "ADGEN_DRAIN_GRACE_S": "2",
        "ADGEN_RECONCILE_INTERVAL_S": "3",
        "ADGEN_RECONCILE_STALE_S": "30",  # longer than a refine under load: running work is not lost work
        "ADGEN_RATE_LIMIT_PER_S": "200",
        "ADGEN_RATE_LIMIT_BURST": "400",
    }


class Chaos:
    """Carries out one plan (see the module's docstring)."""

    def __init__(self, config: ChaosConfig, state_dir: Path, log: Callable[[str], None] = print) -> None:
        self.config = config
        self.state_dir = state_dir
        self.log = log
        self.plan = ChaosPlan.draw(config.seed, config.window_s)
        self.result = ChaosResult(config, self.plan)
        self._stack: DevStack | None = None
        self._url = ""

    # ----------------------------------------------------------------------------------- actions

    def _act(self, action: Action) -> None:
        stack = self._stack
        assert stack is not None
        infra = stack.infra
        started = time.monotonic()
        if action.kind == "kill":
            stack.kill_service(action.target, signal.SIGKILL)
            stack.start_service(action.target)
            stack.wait_ready((action.target,))
            self.result.kills_survived += 1
        elif action.kind in ("restart_nats", "restart_postgres"):
            name = action.kind.removeprefix("restart_")
            infra.stop_component(name)
            infra.start_component(name)
        elif action.kind == "s3_outage":
            infra.stop_component("s3")
            time.sleep(action.hold_s)
            infra.start_component("s3")
        elif action.kind == "wipe_nats":
            infra.stop_component("nats")
            shutil.rmtree(infra.state_dir / "nats")
            infra.start_component("nats")
        line = f"{action.describe()} (took {time.monotonic() - started:.1f} s)"
        self.result.actions_done.append(line)
        self.log(f"chaos: {line}")

    def _carry_out(self, t0: float, stop: threading.Event, errors: list[BaseException]) -> None:
        try:
            for action in self.plan.actions:
                if stop.wait(max(0.0, t0 + action.at_s - time.monotonic())):
                    return
                self._act(action)
        except BaseException as error:  # reported by run(); the videos are still waited for
            errors.append(error)

    # ----------------------------------------------------------------------------------- the run

    def run(self) -> ChaosResult:
        started = time.monotonic()
        with Fakes(self.config.fault_rate, self.config.seed) as fakes:
            self._stack = DevStack(self.state_dir / "stack", extra_env=stack_env(fakes))
            info = self._stack.up(http_port=free_port())
            self._url = info.url
            try:
                asyncio.run(self._run(fakes, info.endpoints.database_url, info.endpoints.nats_url))
            finally:
                self.result.faults_injected = {
                    f"replicate {k}": v for k, v in sorted(fakes.replicate.faults.summary().items())
                } | {f"openai {k}": v for k, v in sorted(fakes.openai.faults.summary().items())}
                self._stack.down()
        self.result.wall_s = time.monotonic() - started
        return self.result

    async def _run(self, fakes: Fakes, database_url: str, nats_url: str) -> None:
        config = self.config
        keys_by_user = [await create_user(database_url, f"chaos-{uuid.uuid4().hex[:10]}") for _ in range(config.videos)]
        stop = threading.Event()
        errors: list[BaseException] = []
        t0 = time.monotonic()
        actor = threading.Thread(target=self._carry_out, args=(t0, stop, errors), name="chaos-actions", daemon=True)
        actor.start()
        refused = ""
        try:
            # The submissions are spread over the first half of the window, so actions hit every phase.
            ids: dict[str, str] = {}
            for i, key in enumerate(keys_by_user):
                await asyncio.sleep(max(0.0, t0 + i * config.window_s / 2 / config.videos - time.monotonic()))
                video_id = await self._submit(key, PROMPTS[i % len(PROMPTS)])
                ids[video_id] = key
                if config.refuse_one and not refused:
                    refused = video_id
                    fakes.replicate.refuse(video_id)  # its chunks carry the video id in their tag
                self.log(f"chaos: t+{time.monotonic() - t0:5.1f}s submitted {video_id}")
            ends = await self._wait_all(ids, deadline=t0 + config.window_s + config.timeout_s)
            await asyncio.to_thread(actor.join)
            if errors:
                raise errors[0]
            if refused:
                fakes.replicate.allow(refused)
                for video_id, (status, error) in ends.items():
                    if status == "failed":
                        self.result.failed_with_reason.append((video_id, error))
                        await self._retry(video_id, ids[video_id])
                ends |= await self._wait_all(
                    {v: ids[v] for v, _ in self.result.failed_with_reason}, deadline=time.monotonic() + config.timeout_s
                )
            await self._check(ids, ends, database_url, nats_url, fakes)
        finally:
            stop.set()
            actor.join(timeout=120)

    async def _call(self, key: str, method: str, path: str, **kwargs: object) -> httpx.Response:
        """A gateway request, tried again while the gateway is being restarted (never for 4xx)."""
        for _ in range(120):
            try:
                headers = {"Authorization": f"Bearer {key}"}
                async with httpx.AsyncClient(base_url=self._url, headers=headers, timeout=30) as client:
                    response = await client.request(method, path, **kwargs)  # type: ignore[arg-type]
                if response.status_code < 500:
                    return response
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.5)
        raise RuntimeError(f"{method} {path}: the gateway never answered")

    async def _submit(self, key: str, prompt: str) -> str:
        body = {"prompt": prompt, "duration_s": self.config.duration_s, "video_model": VIDEO_MODEL}
        response = await self._call(key, "POST", "/v1/videos", json=body)
        if response.status_code != 202:
            raise RuntimeError(f"POST /v1/videos answered {response.status_code}: {response.text}")
        return str(response.json()["id"])

    async def _retry(self, video_id: str, key: str) -> None:
        response = await self._call(key, "POST", f"/v1/videos/{video_id}/retry")
        if response.status_code != 202:
            raise RuntimeError(f"retry of {video_id} answered {response.status_code}: {response.text}")

    async def _wait_all(self, ids: dict[str, str], *, deadline: float) -> dict[str, tuple[str, str]]:
        ends: dict[str, tuple[str, str]] = {}
        while len(ends) < len(ids) and time.monotonic() < deadline:
            for video_id, key in ids.items():
                if video_id in ends:
                    continue
                response = await self._call(key, "GET", f"/v1/videos/{video_id}")
                video = response.json()
                if video["status"] in FINISHED:
                    ends[video_id] = (video["status"], str(video.get("error") or ""))
                    self.log(f"chaos: {video_id} {video['status']} {video.get('error') or ''}")
            await asyncio.sleep(1.0)
        return ends

    # ----------------------------------------------------------------------------------- checks

    async def _check(
        self,
        ids: dict[str, str],
        ends: dict[str, tuple[str, str]],
        database_url: str,
        nats_url: str,
        fakes: Fakes,
    ) -> None:
        result = self.result
        result.lost = sum(1 for v in ids if v not in ends)
        stack = self._stack
        assert stack is not None
        store = object_store(stack.infra.endpoints)
        db = await asyncpg.connect(database_url)
        try:
            with tempfile.TemporaryDirectory(prefix="adgen-chaos-") as folder:
                for video_id, key in ids.items():
                    status, error = ends.get(video_id, ("lost", ""))
                    outcome = VideoOutcome(video_id, status, error, retried=video_id in dict(result.failed_with_reason))
                    result.videos.append(outcome)
                    if status != "completed":
                        continue
                    video = (await self._call(key, "GET", f"/v1/videos/{video_id}")).json()
                    outcome.duration_s = float(video["spec"]["duration_s"])
                    outcome.planned_frames = int(video["spec"]["chunk_plan"]["total_frames"])
                    link = await self._call(key, "GET", f"/v1/videos/{video_id}/download", follow_redirects=False)
                    path = Path(folder) / f"{video_id}.mp4"
                    async with httpx.AsyncClient(timeout=60) as plain:
                        path.write_bytes((await plain.get(link.headers["location"])).content)
                    decoded = decode(path)
                    outcome.frames, outcome.decoded_s = decoded.frame_count, decoded.duration_s
                    user_id = str(await db.fetchval("SELECT user_id FROM videos WHERE video_id = $1", video_id))
                    # What a completed video keeps for its next version: its clips and hand-off frames
                    # (the ones its rows name) and its music bed; anything else under chunks/ is orphaned.
                    rows = await db.fetch("SELECT clip_key, handoff_key FROM chunks WHERE video_id = $1", video_id)
                    kept = {k for r in rows for k in (r["clip_key"], r["handoff_key"]) if k}
                    kept |= {keys.music_key(user_id, video_id), keys.music_prediction_key(user_id, video_id)}
                    left = await store.list_keys(keys.chunks_prefix(user_id, video_id))
                    result.orphaned_objects += [k for k in left if k not in kept]
            await self._check_ledger(db, list(ids), fakes)
        finally:
            await db.close()
        nc = await nats.connect(nats_url)
        try:
            js = nc.jetstream()
            info = await js.stream_info(WORK_STREAM)
            pending = 0
            for consumer in await js.consumers_info(WORK_STREAM):
                assert consumer.num_ack_pending is not None and consumer.num_pending is not None
                pending += consumer.num_ack_pending + consumer.num_pending
            result.unacked_work = max(info.state.messages, pending)
        finally:
            await nc.close()

    async def _check_ledger(self, db: asyncpg.Connection, video_ids: list[str], fakes: Fakes) -> None:
        """One ledger row per billable unit; every chunk paid once at the provider (the fake's own
        count of succeeded predictions, by the unit tag each create carries)."""
        result = self.result
        vids = [uuid.UUID(v) for v in video_ids]
        ledger = {
            r["idempotency_key"]: r
            for r in await db.fetch(
                "SELECT idempotency_key, video_id, phase, provider, model FROM cost_ledger WHERE video_id = ANY($1)",
                vids,
            )
        }
        frames = await db.fetch("SELECT video_id, beat_index FROM frames WHERE video_id = ANY($1)", vids)
        chunks = await db.fetch("SELECT video_id, chunk_index FROM chunks WHERE video_id = ANY($1)", vids)
        units = [f"{r['video_id']}:frame:{r['beat_index']}" for r in frames]
        units += [f"{r['video_id']}:chunk:{r['chunk_index']}" for r in chunks]
        lines = await db.fetch("SELECT video_id, beat_index FROM voice_lines WHERE video_id = ANY($1)", vids)
        units += [f"{r['video_id']}:voice:{r['beat_index']}" for r in lines]
        units += [f"{v}:plan" for v in video_ids]
        predictions = fakes.replicate.predictions()
        paid = Counter(model for model, _, status in predictions if status not in ("failed", "canceled"))
        result.provider_paid = dict(paid) | {"openai completions": fakes.openai.answered}
        music = sum(1 for v in video_ids if f"{v}:music" in ledger)
        # A line spoken again faster to fit its beat has a row per try (`<line>:try2`), each a call paid.
        retried = {k for k in ledger if k.rpartition(":try")[0] in units}
        result.billable_units = len(units) + music + len(retried)
        result.ledger_rows = len(ledger)
        missing = [u for u in units if u not in ledger]
        extra = set(ledger) - set(units) - retried - {f"{v}:music" for v in video_ids}
        if missing:
            result.ledger_mismatch.append(f"units without a ledger row: {missing[:5]} ({len(missing)})")
        if extra:
            result.ledger_mismatch.append(f"ledger rows for no unit: {sorted(extra)[:5]} ({len(extra)})")
        # A chunk's creates carry its unit key: more than one prediction of a unit that did not fail
        # (a lost create posted again, a killed worker's prediction abandoned) is a unit paid twice.
        by_tag = Counter(tag for _, tag, status in predictions if tag and status not in ("failed", "canceled"))
        result.duplicate_charges = sum(n - 1 for n in by_tag.values() if n > 1)
        unpaid = [k for k in ledger if ":chunk:" in k and ledger[k]["provider"] == "replicate" and not by_tag.get(k)]
        if unpaid:
            result.ledger_mismatch.append(f"chunk rows the provider never made: {unpaid[:5]}")
        # Storyboard images and music carry no unit key: predictions beyond their ledger rows are
        # reported (a worker killed while its prediction ran starts another), not attributed.
        rows = Counter(r["model"].split(" (")[0] for r in ledger.values() if r["provider"] == "replicate")
        result.untracked_predictions = {
            model: paid[model] - rows[model] for model in paid if paid[model] != rows[model]
        }


def run_chaos(config: ChaosConfig, state_dir: Path, log: Callable[[str], None] = print) -> ChaosResult:
    return Chaos(config, state_dir, log).run()
