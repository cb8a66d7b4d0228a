"""User B against user A's resources, on every read and write path: always 404 (exactly what an id
that names nothing gets, so existence does not leak), A's things unchanged afterwards, and B's
lists and searches never showing them. Then the pre-signed links: they expire, and a link whose
key or expiry is edited is refused by the store."""

from __future__ import annotations

import asyncio
import io
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg
import httpx
import numpy as np
import pytest
from conftest import Stack, base_settings
from gateways import extra_gateway
from PIL import Image

from adgen_assets.embeddings import load_embedder
from adgen_assets.search_plan import vector_literal
from adgen_assets.server import build as build_assets
from adgen_assets.settings import AssetsSettings
from adgen_gateway.auth import key_digest
from adgen_kernel.serve import start_service

pytestmark = pytest.mark.xdist_group("stack")


def png(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), colour).save(out, "PNG")
    return out.getvalue()


@dataclass(frozen=True)
class World:
    url: str  # a gateway whose assets service has a CLIP model (search, similar, recommendations)
    a: str  # API keys
    b: str
    video: str  # A's completed video, in two renditions
    asset: str  # A's asset
    b_asset: str
    query_vector: list[float]
    query: str


async def finish(client: httpx.AsyncClient, video_id: str) -> None:
    async with client.stream("GET", f"/v1/videos/{video_id}/events", timeout=600) as stream:
        async for line in stream.aiter_lines():
            if "VIDEO_STATUS_COMPLETED" in line or "VIDEO_STATUS_FAILED" in line:
                break
    assert (await client.get(f"/v1/videos/{video_id}")).json()["status"] == "completed"


@pytest.fixture(scope="module")
async def world(stack: Stack) -> AsyncIterator[World]:
    settings = AssetsSettings(**base_settings(stack.endpoints), clip_random_weights=True)
    assets = await start_service("assets", settings, build_assets)
    try:
        async with extra_gateway(stack, assets_addr=f"127.0.0.1:{assets.port}") as url:
            a, b = await stack.new_user("iso-a"), await stack.new_user("iso-b")
            async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {a}"}, timeout=60) as mine:
                created = await mine.post(
                    "/v1/videos",
                    json={
                        "prompt": "10 second ad for a steel water bottle",
                        "duration_s": 10,
                        "aspect_ratio": ["16:9", "9:16"],
                    },
                )
                assert created.status_code == 202, created.text
                video = created.json()["id"]
                uploaded = await mine.post("/v1/assets", files={"file": ("a.png", png((240, 240, 240)), "image/png")})
                assert uploaded.status_code == 201, uploaded.text
                asset = uploaded.json()["asset_id"]
                await finish(mine, video)
            headers = {"Authorization": f"Bearer {b}"}
            async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as theirs:
                uploaded = await theirs.post("/v1/assets", files={"file": ("b.png", png((10, 90, 200)), "image/png")})
                b_asset = uploaded.json()["asset_id"]
            assert isinstance(assets.settings, AssetsSettings)
            model, _ = load_embedder(assets.settings)
            assert model is not None
            query = "a white product shot"
            vector = [float(x) for x in model.embed_texts([query])[0]]
            # A's asset is made the exact query vector: the best answer in the whole table for B's search.
            conn = await asyncpg.connect(stack.endpoints.database_url)
            try:
                await conn.execute(
                    "UPDATE assets SET embedding = $2::vector WHERE asset_id = $1",
                    uuid.UUID(asset),
                    vector_literal(np.array(vector)),
                )
            finally:
                await conn.close()
            yield World(url, a, b, video, asset, b_asset, vector, query)
    finally:
        await assets.stop()


def client(world: World, key: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=world.url, headers={"Authorization": f"Bearer {key}"}, timeout=60)


def not_found(response: httpx.Response, the_id: str, unknown_id: str, unknown: httpx.Response) -> None:
    """404 problem+json, the same answer as for an id that names nothing."""
    assert response.status_code == 404, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert unknown.status_code == 404, unknown.text
    assert response.json()["detail"].replace(the_id, "ID") == unknown.json()["detail"].replace(unknown_id, "ID")


VIDEO_CALLS = [
    ("GET", ""),
    ("GET", "/events"),
    ("GET", "/frames"),
    ("GET", "/download"),
    ("GET", "/download?aspect_ratio=16:9"),
    ("GET", "/download?aspect_ratio=9:16"),
    ("POST", "/retry"),
    ("POST", "/cancel"),
    ("POST", "/stream-token"),
]


@pytest.mark.parametrize(("method", "suffix"), VIDEO_CALLS, ids=[f"{m} {s or '/'}" for m, s in VIDEO_CALLS])
async def test_another_users_video_is_not_found(world: World, method: str, suffix: str) -> None:
    unknown_id = str(uuid.uuid4())
    async with client(world, world.b) as theirs:
        response = await theirs.request(method, f"/v1/videos/{world.video}{suffix}")
        unknown = await theirs.request(method, f"/v1/videos/{unknown_id}{suffix}")
    not_found(response, world.video, unknown_id, unknown)


async def test_the_owner_still_has_everything_and_lists_never_cross(world: World) -> None:
    async with client(world, world.b) as theirs:
        assert world.video not in [v["id"] for v in (await theirs.get("/v1/videos")).json()["videos"]]
        assert world.asset not in [a["asset_id"] for a in (await theirs.get("/v1/assets")).json()["assets"]]
        # A's stream token is bound to A's video; it opens nothing else, and B cannot get one.
    async with client(world, world.a) as mine:
        video = (await mine.get(f"/v1/videos/{world.video}")).json()
        assert video["status"] == "completed" and video["run"] == 1  # B's retry and cancel changed nothing
        assert {r["aspect_ratio"] for r in video["renditions"]} == {"16:9", "9:16"}
        assert world.video in [v["id"] for v in (await mine.get("/v1/videos")).json()["videos"]]
        token = (await mine.post(f"/v1/videos/{world.video}/stream-token")).json()["token"]
    async with httpx.AsyncClient(base_url=world.url) as anonymous:
        other = await anonymous.get(f"/v1/videos/{uuid.uuid4()}/events", params={"token": token})
        assert other.status_code == 401
        own = await anonymous.get(f"/v1/videos/{world.video}/events", params={"token": token})
        assert own.status_code == 200 and "VIDEO_STATUS_COMPLETED" in own.text


ASSET_CALLS = [
    ("GET", "", None),
    ("PATCH", "", {"name": "mine now"}),
    ("DELETE", "", None),
    ("GET", "/similar", None),
]


@pytest.mark.parametrize(("method", "suffix", "body"), ASSET_CALLS, ids=[f"{m} {s or '/'}" for m, s, _ in ASSET_CALLS])
async def test_another_users_asset_is_not_found(world: World, method: str, suffix: str, body: dict | None) -> None:
    unknown_id = str(uuid.uuid4())
    async with client(world, world.b) as theirs:
        response = await theirs.request(method, f"/v1/assets/{world.asset}{suffix}", json=body)
        unknown = await theirs.request(method, f"/v1/assets/{unknown_id}{suffix}", json=body)
    not_found(response, world.asset, unknown_id, unknown)
    async with client(world, world.a) as mine:
        still = await mine.get(f"/v1/assets/{world.asset}")
        assert still.status_code == 200 and still.json()["name"] == "a.png"


async def test_another_users_asset_in_a_selection_or_a_video_request_is_not_found(world: World) -> None:
    async with client(world, world.b) as theirs:
        mixed = await theirs.post("/v1/assets/recommendations", json={"asset_ids": [world.b_asset, world.asset]})
        assert mixed.status_code == 404, mixed.text
        assert mixed.headers["content-type"].startswith("application/problem+json")
        own = await theirs.post("/v1/assets/recommendations", json={"asset_ids": [world.b_asset]})
        assert own.status_code == 200, own.text
        assert world.asset not in own.text
        for path in ("/v1/plans", "/v1/quotes", "/v1/videos"):
            response = await theirs.post(path, json={"prompt": "ad", "duration_s": 10, "asset_ids": [world.asset]})
            assert response.status_code == 422, response.text
            assert [e["field"] for e in response.json()["errors"]] == ["asset_ids"]


@pytest.mark.parametrize("query", ["a white product shot", "' OR 1=1 --", "%' OR user_id IS NOT NULL --"])
async def test_search_never_returns_another_users_assets(world: World, query: str) -> None:
    async with client(world, world.b) as theirs:
        found = await theirs.get("/v1/assets/search", params={"q": query, "min_score": -1, "limit": 100})
        assert found.status_code == 200, found.text
        assert [r["asset"]["asset_id"] for r in found.json()["results"]] == [world.b_asset]
    async with client(world, world.a) as mine:  # the same search finds A's own asset first
        found = await mine.get("/v1/assets/search", params={"q": world.query, "min_score": -1})
        assert found.json()["results"][0]["asset"]["asset_id"] == world.asset


# -- pre-signed links -----------------------------------------------------------------------------


async def download_link(world: World, aspect_ratio: str = "16:9") -> str:
    async with client(world, world.a) as mine:
        response = await mine.get(f"/v1/videos/{world.video}/download", params={"aspect_ratio": aspect_ratio})
    assert response.status_code == 302, response.text
    return response.headers["location"]


def edited(url: str, *, path: str | None = None, **query: str) -> str:
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    params.update(query)
    return urlunsplit(parts._replace(path=path or parts.path, query=urlencode(params)))


async def test_a_link_cannot_be_widened(world: World) -> None:
    link = await download_link(world)
    other_rendition = urlsplit(await download_link(world, "9:16")).path
    parts = urlsplit(link)
    async with httpx.AsyncClient(timeout=30) as plain:
        assert (await plain.get(link)).status_code == 200
        for forged in (
            edited(link, path=other_rendition),  # another object of the same user
            edited(link, path=parts.path.rsplit("/", 1)[0] + "/poster.jpg"),
            edited(link, **{"X-Amz-Expires": "604800"}),  # a longer life
            edited(link, **{"X-Amz-Date": "20990101T000000Z"}),
            edited(link, **{"response-content-type": "text/html"}),  # an added parameter
        ):
            assert (await plain.get(forged)).status_code == 403, forged


async def test_a_link_expires(world: World, stack: Stack) -> None:
    """A link signed for one second (the store's own signer, as export and frames use it)."""
    key = urlsplit(await download_link(world)).path.split("/", 2)[2]
    link = await stack.store().presign_get(key, 1)
    async with httpx.AsyncClient(timeout=30) as plain:
        await asyncio.sleep(2.5)  # past the expiry: the store refuses, whatever else is true
        refused = await plain.get(link)
    assert refused.status_code == 403, refused.text


async def test_the_users_table_never_holds_a_plaintext_key(stack: Stack, world: World) -> None:
    conn = await asyncpg.connect(stack.endpoints.database_url)
    try:
        rows = await conn.fetch("SELECT * FROM users")
        digests = {bytes(r["api_key_hash"]) for r in rows}
        assert key_digest(world.a) in digests and key_digest(world.b) in digests
        dump = repr([dict(r) for r in rows])
        for key in (world.a, world.b):
            assert key not in dump and key.removeprefix("adg_") not in dump
        # No other column of any table holds them either.
        for (table,) in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"):
            text = await conn.fetchval(f"SELECT coalesce(string_agg(t::text, ''), '') FROM \"{table}\" t")
            assert world.a not in text and world.b not in text, table
    finally:
        await conn.close()
