"""Migrations are forward-only and tested: from an empty database every one applies and a second run
applies nothing; from every earlier version, with rows written in the first schema, the newest
applies and the old rows still read correctly; files are numbered uniquely and contiguously; an
applied migration's checksum never changes (pinned here, and enforced by `migrate()`)."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import AsyncIterator

import asyncpg
import numpy as np
import pytest
import seeding

from adgen.common.v1 import common_pb2
from adgen_kernel.db import create_pool
from adgen_kernel.serve import Connections
from adgen_video.schema import MigrationChanged, migrate, migration_files
from adgen_video.video_state import cost_of, from_json, live_run, reserve_budget

# The sha256 of every migration file. A migration, once merged, is never edited: a change is a new
# file, whose checksum is added here.
PINNED = {
    1: "58d61012b19978eb64b802573b25e5d5d40f19f2d6bf54752eb1beabb0f75dba",
    2: "7b362065a13003f422148f249dabc273d24dbd6a1b9c8c1b013a601224fbd144",
    3: "857ef233006cb1fa2b637247450fe77f2159a49aed72361d104bb63eb66a9235",
    4: "1bd2b825248e09f3d28467e9ad55ef6face4fdfed3bd71c9692f783ace773a08",
    5: "133c4265a11159b14e85044d2afe8012c5bcb7d440d81723b8a7c30f0d35450b",
    6: "541230251d4df459e3839d03588eb722ed73ff5650afa33fa8d4ae98bfa970e8",
    7: "59b922b4a92e2d5092264ccafdd89bbb1cda3cccfeb0d9a1e578cafaeff0471e",
    8: "1c5029e16a290d835119688cb16d96a2b76d8606a1f8f381e3f48580c4a5a13f",
    9: "5290204116e0c0f6b9ddd99a3ce336d935a555ed868d259fe7bd2fa54ef54028",
    10: "978fafa6cc134413061887d91b9af1ee99bf3734d4bd408750cc9c414f89ece5",
    11: "ae6d17822fc16997e5e9efcc87d540a64688cffb0b7646161764037680750ef9",
    12: "c50f23ebb28d7ddd272ac3e93cc3a230c6b85661dadddada577f5fead3d9360c",
    13: "496067119b0ccfa7b031ffa433d8668e612d8404f5c53429dbed6bbe0216f611",
    14: "de84d18ed36fb175ced83b893f9de4cb54a7c047a7fbc59e0d2e6a414846d59f",
}
FILES = migration_files()
NEWEST = FILES[-1][0]


@pytest.fixture
async def empty_database(infra) -> AsyncIterator[str]:
    """A new, empty database on the test Postgres; dropped afterwards."""
    name = f"migrations_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(infra.database_url)
    try:
        await admin.execute(f"CREATE DATABASE {name}")
        yield infra.database_url.rsplit("/", 1)[0] + f"/{name}"
        await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
    finally:
        await admin.close()


def test_files_are_numbered_uniquely_and_contiguously() -> None:
    names = [name for _, name, _ in FILES]
    assert all(re.fullmatch(r"\d{4}_[a-z0-9_]+\.sql", n) for n in names), names
    versions = [v for v, _, _ in FILES]
    assert len(set(versions)) == len(versions), f"two files share a number: {names}"
    assert versions == list(range(1, len(versions) + 1)), f"numbers must run 1, 2, 3, … without gaps: {names}"


def test_no_migration_was_edited_and_every_one_is_pinned() -> None:
    found = {version: hashlib.sha256(sql.encode()).hexdigest() for version, _, sql in FILES}
    edited = sorted(v for v in PINNED if v in found and found[v] != PINNED[v])
    assert not edited, f"migrations {edited} were edited after they were pinned; restore them, add a new file"
    assert sorted(found) == sorted(PINNED), "pin the checksum of each new migration in PINNED"


async def test_from_empty_every_migration_applies_once(empty_database: str) -> None:
    applied = await migrate(empty_database)
    assert applied == [name for _, name, _ in FILES]
    assert await migrate(empty_database) == []
    conn = await asyncpg.connect(empty_database)
    try:
        rows = await conn.fetch("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
    finally:
        await conn.close()
    assert [(r["version"], r["name"]) for r in rows] == [(v, n) for v, n, _ in FILES]
    assert [r["checksum"] for r in rows] == [hashlib.sha256(sql.encode()).hexdigest() for _, _, sql in FILES]


async def test_an_edited_applied_migration_stops_the_migrator(empty_database: str) -> None:
    await migrate(empty_database)
    conn = await asyncpg.connect(empty_database)
    try:
        # As if 0002's file had changed since it was applied.
        await conn.execute("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 2")
    finally:
        await conn.close()
    with pytest.raises(MigrationChanged, match=r"0002_cancelled_status\.sql"):
        await migrate(empty_database)


async def write_first_schema_rows(url: str) -> dict[str, uuid.UUID]:
    """Rows with only the columns of version 1: a user, a rendering and a completed video with a
    frame, a chunk and a ledger row, an embedded and a not yet embedded asset."""
    conn = await asyncpg.connect(url)
    request = {"prompt": "an ad for a kettle", "duration_s": 10, "aspect_ratio": "ASPECT_RATIO_16_9", "seed": "7"}
    try:
        user_id = (await seeding.user(conn, name="old-user")).user_id
        running = await seeding.video(conn, user_id=user_id, status="rendering", request=request)
        completed = await seeding.video(
            conn, user_id=user_id, status="completed", request=request, final_key="users/x/videos/y/final.mp4"
        )
        await seeding.frame(conn, video_id=running, beat_index=0)
        await seeding.chunk(conn, video_id=running, chunk_index=0, beat_index=0)
        # The ledger row as the first schema's writer put it (record_cost writes today's columns).
        await conn.execute(
            "INSERT INTO cost_ledger (idempotency_key, video_id, phase, provider, model, units, usd_micros)"
            " VALUES ($1, $2, 'PHASE_CHUNKS', 'replicate', 'minimax/hailuo-02-fast', 1, 190000)",
            f"{completed}:chunk:0",
            completed,
        )
        vector = "[" + ",".join(f"{x:.6f}" for x in np.linspace(-1, 1, 512)) + "]"
        embedded, plain = await seeding.assets(conn, user_id=user_id, embeddings=[vector, None])
    finally:
        await conn.close()
    found = {"user": user_id, "running": running, "completed": completed, "embedded": embedded, "plain": plain}
    return {name: uuid.UUID(value) for name, value in found.items()}


@pytest.mark.parametrize("previous", range(1, NEWEST))
async def test_from_an_earlier_version_to_the_newest_old_rows_still_read(
    empty_database: str, previous: int, connections: Connections
) -> None:
    applied = await migrate(empty_database, until=previous)
    assert len(applied) == previous
    ids = await write_first_schema_rows(empty_database)

    applied = await migrate(empty_database)
    assert applied == [name for version, name, _ in FILES if version > previous]

    pool = await create_pool(empty_database)
    try:
        assert await live_run(pool, str(ids["running"])) == 1  # videos without `run` are on their first
        assert await live_run(pool, str(ids["completed"])) is None
        video = await pool.fetchrow(
            "SELECT request, run, max_cost_micros, status FROM videos WHERE video_id = $1", ids["running"]
        )
        assert video is not None
        request = from_json(video["request"], common_pb2.VideoRequest())
        assert (request.prompt, request.duration_s, request.seed) == ("an ad for a kettle", 10, 7)
        assert not request.HasField("max_cost_micros") and video["max_cost_micros"] is None  # no cap
        await reserve_budget(pool, str(ids["running"]), f"{ids['running']}:chunk:0", 190_000)
        assert await pool.fetchval("SELECT count(*) FROM budget_reservations") == 0
        assert (await cost_of(pool, str(ids["completed"]))).total_micros == 190_000
        # Everything made before versions belongs to the first version.
        assert (await cost_of(pool, str(ids["completed"]), version=1)).total_micros == 190_000
        assert await pool.fetchval("SELECT array_agg(DISTINCT version) FROM videos") == [1]
        chunk = await pool.fetchrow("SELECT status, prediction_id FROM chunks WHERE video_id = $1", ids["running"])
        assert chunk is not None
        assert (chunk["status"], chunk["prediction_id"]) == ("pending", None)
        assert await pool.fetchval("SELECT count(*) FROM renditions") == 0
        # The half-precision copy was computed for the asset embedded before 0005; none for the other.
        halves = {
            r["asset_id"]: r["distance"]
            for r in await pool.fetch(
                "SELECT asset_id, (embedding_half <=> embedding::halfvec(512)) AS distance FROM assets"
            )
        }
        assert halves[ids["plain"]] is None and halves[ids["embedded"]] == pytest.approx(0.0, abs=1e-6)
        # A cancel, which the first schema did not know, is a status the migrated table accepts.
        await pool.execute("UPDATE videos SET status = 'cancelled' WHERE video_id = $1", ids["running"])
        # New rows written after the migration carry the newest columns.
        capped = {**json.loads(json.dumps(video["request"])), "max_cost_micros": "2500000"}
        new_id = await seeding.video(pool, user_id=str(ids["user"]), status="queued", request=capped)
        assert await pool.fetchval("SELECT max_cost_micros FROM videos WHERE video_id = $1", new_id) == 2_500_000
    finally:
        await pool.close()
    assert await migrate(empty_database) == []
