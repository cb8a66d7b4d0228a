"""Postgres is written at the critical points only; progress lives in the KV. This counts every row
written for one video (row-level triggers into an audit table, for the duration of the test) and
holds the count to the design: the video row when accepted, planned and completed, and per unit
its row (created, started, done) and its ledger line."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest
from test_streams import read_events

pytestmark = pytest.mark.xdist_group("stack")

AUDITED = ("videos", "frames", "chunks", "voice_lines", "cost_ledger")


async def install_audit(db: asyncpg.Connection) -> None:
    await db.execute(
        "CREATE TABLE IF NOT EXISTS test_write_audit (tbl text NOT NULL, op text NOT NULL, video_id uuid NOT NULL);"
        "CREATE OR REPLACE FUNCTION test_audit_write() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN INSERT INTO test_write_audit VALUES (TG_TABLE_NAME, TG_OP,"
        "  CASE WHEN TG_OP = 'DELETE' THEN OLD.video_id ELSE NEW.video_id END); RETURN NULL; END $$;"
    )
    for table in AUDITED:
        await db.execute(
            f"CREATE OR REPLACE TRIGGER test_audit_{table} AFTER INSERT OR UPDATE OR DELETE ON {table}"
            " FOR EACH ROW EXECUTE FUNCTION test_audit_write()"
        )


async def remove_audit(db: asyncpg.Connection) -> None:
    for table in AUDITED:
        await db.execute(f"DROP TRIGGER IF EXISTS test_audit_{table} ON {table}")
    await db.execute("DROP TABLE IF EXISTS test_write_audit; DROP FUNCTION IF EXISTS test_audit_write()")


async def test_a_video_writes_postgres_only_at_its_critical_points(stack) -> None:
    key = await stack.new_user(f"writes-{uuid.uuid4().hex[:8]}")
    db = await asyncpg.connect(stack.endpoints.database_url)
    await install_audit(db)
    try:
        async with stack.client(key) as client:
            created = await client.post(
                "/v1/videos", json={"prompt": "15 second ad for a linen shirt", "duration_s": 15}
            )
            assert created.status_code == 202, created.text
            video_id = created.json()["id"]
            events = await asyncio.wait_for(read_events(client, f"/v1/videos/{video_id}/events"), 180)
            assert events[-1].kind == "video_completed", [e.kind for e in events]
            # Status reads come from the KV: polling does not write.
            for _ in range(5):
                assert (await client.get(f"/v1/videos/{video_id}")).status_code == 200
        rows = await db.fetch(
            "SELECT tbl, count(*) AS n FROM test_write_audit WHERE video_id = $1 GROUP BY tbl", uuid.UUID(video_id)
        )
        writes = {r["tbl"]: r["n"] for r in rows}
        beats = await db.fetchval("SELECT count(*) FROM frames WHERE video_id = $1", uuid.UUID(video_id))
        chunks = await db.fetchval("SELECT count(*) FROM chunks WHERE video_id = $1", uuid.UUID(video_id))
        lines = await db.fetchval("SELECT count(*) FROM voice_lines WHERE video_id = $1", uuid.UUID(video_id))
    finally:
        await remove_audit(db)
        await db.close()

    total = sum(writes.values())
    print(f"\nPostgres rows written for one {beats}-beat, {chunks}-chunk, {lines}-line video: {total} {writes}")
    # accepted, planned (spec + rendering), completed: phases in between live in the KV only
    assert writes["videos"] == 3, writes
    assert writes["frames"] == 3 * beats, writes  # created with the plan, started, done
    assert writes["chunks"] == 3 * chunks, writes
    assert lines == beats and writes["voice_lines"] == 3 * lines, writes  # a line per beat, by default
    assert writes["cost_ledger"] == beats + chunks + lines, writes  # one line per provider call, free ones included
    assert total == 3 + 4 * (beats + chunks + lines)
