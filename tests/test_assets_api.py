"""The assets REST API on the real stack: uploads that are safe (and leave nothing behind when
refused), the library with working pre-signed links, and search that never crosses users."""

from __future__ import annotations

import asyncio
import io
import struct
import uuid
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import grpc
import httpx
import nats
import numpy as np
import pytest
import seeding
from conftest import TEST_RATE_LIMITS, Stack, base_settings
from gateways import extra_gateway
from PIL import Image

from adgen.common.v1 import common_pb2
from adgen.events.v1 import events_pb2
from adgen.planner.v1 import planner_service_pb2, planner_service_pb2_grpc
from adgen_assets.embeddings import load_embedder
from adgen_assets.quota import RETRY_AFTER_S
from adgen_assets.search_plan import vector_literal
from adgen_assets.server import build as build_assets
from adgen_assets.settings import AssetsSettings
from adgen_embedded.ports import free_port
from adgen_gateway.server import build as build_gateway
from adgen_gateway.settings import GatewaySettings
from adgen_kernel.jetstream import publish_work
from adgen_kernel.serve import RunningService, start_service

pytestmark = pytest.mark.xdist_group("stack")


@dataclass(frozen=True)
class Person:
    key: str
    user_id: str


async def person(db: asyncpg.Pool) -> Person:
    user = await seeding.user(db)
    return Person(user.api_key, user.user_id)


def image_bytes(fmt: str, size: tuple[int, int] = (120, 80), colour: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    image = Image.new("RGB", size, colour)
    image.paste((255, 255, 255), (size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2))
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A well-formed PNG signature and IHDR claiming `width`x`height`, and one tiny IDAT: a
    decompression bomb's shape at a few dozen bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


async def upload(
    client: httpx.AsyncClient, data: bytes, filename: str = "product.png", name: str | None = None
) -> httpx.Response:
    form = {"name": name} if name is not None else None
    return await client.post("/v1/assets", files={"file": (filename, data, "application/octet-stream")}, data=form)


async def leftovers(stack: Stack, db: asyncpg.Pool, user_id: str) -> tuple[int, list[str]]:
    rows = await db.fetchval("SELECT count(*) FROM assets WHERE user_id = $1", uuid.UUID(user_id))
    return rows, await stack.store().list_keys(f"{user_id}/assets/")


def problem(response: httpx.Response, status: int, field: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert field in [e["field"] for e in body.get("errors", [])], body
    return body


ASSET_FIELDS = {"asset_id", "name", "source", "content_type", "width", "height", "created_at", "embedded", "urls"}


async def test_happy_uploads_and_links_that_work(stack: Stack, db: asyncpg.Pool) -> None:
    me = await person(db)
    async with stack.client(me.key) as client, httpx.AsyncClient(timeout=30) as plain:
        for fmt, content_type in (("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")):
            # The extension says nothing: the type comes from the bytes.
            response = await upload(client, image_bytes(fmt), filename=f"shot {fmt}.bin")
            assert response.status_code == 201, response.text
            asset = response.json()
            assert set(asset) == ASSET_FIELDS | {"near_duplicates"}
            assert asset["content_type"] == content_type
            assert (asset["width"], asset["height"]) == (120, 80)
            assert asset["source"] == "USER_UPLOAD"
            assert asset["name"] == f"shot {fmt}.bin"
            assert asset["embedded"] is False and asset["near_duplicates"] == []  # no CLIP weights in this stack
            assert asset["created_at"].endswith("+00:00")
            original = await plain.get(asset["urls"]["original"])
            assert original.status_code == 200
            stored = Image.open(io.BytesIO(original.content))
            assert stored.format == fmt and stored.size == (120, 80)
            thumbnail = Image.open(io.BytesIO((await plain.get(asset["urls"]["thumbnail"])).content))
            assert thumbnail.format == "JPEG" and max(thumbnail.size) <= 400
            edges = Image.open(io.BytesIO((await plain.get(asset["urls"]["edges"])).content))
            assert edges.format == "PNG" and edges.size == (120, 80)

        named = await upload(client, image_bytes("PNG"), filename="logo.png", name="Brand logo, dark")
        assert named.status_code == 201 and named.json()["name"] == "Brand logo, dark"
        got = await client.get(f"/v1/assets/{named.json()['asset_id']}")
        assert got.status_code == 200 and set(got.json()) == ASSET_FIELDS
        assert (await plain.get(got.json()["urls"]["original"])).status_code == 200
    rows, objects = await leftovers(stack, db, me.user_id)
    assert rows == 4 and len(objects) == 12


async def test_a_name_sent_after_the_file_is_applied(stack: Stack, db: asyncpg.Pool) -> None:
    me = await person(db)
    body = (
        b'--b0\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n'
        b"Content-Type: image/png\r\n\r\n" + image_bytes("PNG") + b"\r\n"
        b'--b0\r\nContent-Disposition: form-data; name="name"\r\n\r\nLate name\r\n--b0--\r\n'
    )
    async with stack.client(me.key) as client:
        response = await client.post(
            "/v1/assets", content=body, headers={"Content-Type": "multipart/form-data; boundary=b0"}
        )
        assert response.status_code == 201, response.text
        assert response.json()["name"] == "Late name"
        too_long = body.replace(b"Late name", b"x" * 300)
        refused = await client.post(
            "/v1/assets", content=too_long, headers={"Content-Type": "multipart/form-data; boundary=b0"}
        )
        problem(refused, 422, "name")
    rows, objects = await leftovers(stack, db, me.user_id)
    assert rows == 1 and len(objects) == 3  # the refused one left nothing


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("empty", 422),
        ("truncated png", 422),
        ("text named .png", 422),
        ("30000x30000 png", 422),
        ("gif", 422),
        ("60 MB", 413),
    ],
)
async def test_bad_uploads_are_refused_and_leave_nothing(
    stack: Stack, db: asyncpg.Pool, case: str, status: int
) -> None:
    whole = image_bytes("PNG", (400, 300))
    data = {
        "empty": b"",
        "truncated png": whole[: len(whole) // 2],
        "text named .png": b"this is not an image, whatever its name says\n" * 20,
        "30000x30000 png": png_header_only(30_000, 30_000),
        "gif": image_bytes("GIF"),
        "60 MB": whole + b"\0" * (60 * 1024 * 1024),
    }[case]
    me = await person(db)
    async with stack.client(me.key) as client:
        response = await upload(client, data, filename="product.png")
    body = problem(response, status, "file")
    assert body["detail"].startswith("file: ")
    if case == "30000x30000 png":
        assert "megapixels" in body["detail"]
    assert await leftovers(stack, db, me.user_id) == (0, [])


async def test_a_60_mb_body_without_a_length_is_cut_off_at_the_limit(stack: Stack, db: asyncpg.Pool) -> None:
    me = await person(db)

    async def body() -> AsyncIterator[bytes]:
        yield b'--b1\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n\r\n'
        yield image_bytes("PNG")
        for _ in range(60):
            yield b"\0" * (1024 * 1024)
        yield b"\r\n--b1--\r\n"

    async with stack.client(me.key) as client:
        response = await client.post(
            "/v1/assets", content=body(), headers={"Content-Type": "multipart/form-data; boundary=b1"}
        )
    problem(response, 413, "file")
    assert await leftovers(stack, db, me.user_id) == (0, [])


async def test_a_path_in_the_filename_never_reaches_the_key(stack: Stack, db: asyncpg.Pool) -> None:
    me = await person(db)
    async with stack.client(me.key) as client:
        first = await upload(client, image_bytes("PNG"), filename="../../etc/passwd.png")
        second = await upload(client, image_bytes("PNG"), filename="../../etc/passwd.png")
    assert first.status_code == second.status_code == 201, first.text
    keys = await stack.store().list_keys(f"{me.user_id}/assets/")
    assert len(keys) == 6  # two uploads, three objects each, nothing collided
    for key in keys:
        tail = key.removeprefix(f"{me.user_id}/assets/")
        assert ".." not in tail and "/" not in tail and "\\" not in tail, key
        assert tail.startswith("passwd-")
    assert not await stack.store().list_keys("etc/")


async def test_bad_forms_name_the_field(stack: Stack, db: asyncpg.Pool) -> None:
    me = await person(db)
    async with stack.client(me.key) as client:
        problem(await client.post("/v1/assets", json={"file": "x"}), 415, "file")
        no_file = await client.post("/v1/assets", data={"name": "only a name"}, files={"other": ("x", b"y")})
        problem(no_file, 422, "other")
        only_name = await client.post(
            "/v1/assets",
            content=b'--b2\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n--b2--\r\n',
            headers={"Content-Type": "multipart/form-data; boundary=b2"},
        )
        problem(only_name, 422, "file")
        cut = await client.post(
            "/v1/assets",
            content=b'--b3\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n\x89PNG',
            headers={"Content-Type": "multipart/form-data; boundary=b3"},
        )
        problem(cut, 400, "file")
        blank = await upload(client, image_bytes("PNG"), name="   ")
        problem(blank, 422, "name")
        unauthenticated = await httpx.AsyncClient(base_url=stack.url).post(
            "/v1/assets", files={"file": ("a.png", image_bytes("PNG"))}
        )
        assert unauthenticated.status_code == 401
    assert await leftovers(stack, db, me.user_id) == (0, [])


async def test_list_pages_newest_first(stack: Stack, db: asyncpg.Pool) -> None:
    me = await person(db)
    async with stack.client(me.key) as client:
        made = []
        for i in range(5):
            response = await upload(client, image_bytes("PNG", colour=(i * 40, 10, 10)), filename=f"p{i}.png")
            made.append(response.json()["asset_id"])
        seen: list[str] = []
        token = None
        pages = 0
        while True:
            params: dict[str, str | int] = {"page_size": 2}
            if token:
                params["page_token"] = token
            page = (await client.get("/v1/assets", params=params)).json()
            assert len(page["assets"]) <= 2 and all(set(a) == ASSET_FIELDS for a in page["assets"])
            seen += [a["asset_id"] for a in page["assets"]]
            pages += 1
            token = page["next_page_token"]
            if token is None:
                break
        assert seen == list(reversed(made)) and pages == 3
        everything = (await client.get("/v1/assets")).json()
        assert [a["asset_id"] for a in everything["assets"]] == seen and everything["next_page_token"] is None
        problem(await client.get("/v1/assets", params={"page_token": "garbage"}), 422, "page_token")
        problem(await client.get("/v1/assets", params={"page_size": 0}), 422, "page_size")
        problem(await client.get("/v1/assets", params={"page_size": 101}), 422, "page_size")


async def test_rename_keeps_the_keys_and_delete_removes_every_object(stack: Stack, db: asyncpg.Pool) -> None:
    me = await person(db)
    async with stack.client(me.key) as client:
        asset = (await upload(client, image_bytes("JPEG"), filename="watch.jpg")).json()
        keep = (await upload(client, image_bytes("PNG"), filename="keep.png")).json()
        before = await db.fetchrow(
            "SELECT original_key, thumbnail_key, edges_key FROM assets WHERE asset_id = $1",
            uuid.UUID(asset["asset_id"]),
        )
        assert before is not None
        renamed = await client.patch(f"/v1/assets/{asset['asset_id']}", json={"name": "Hero watch"})
        assert renamed.status_code == 200 and renamed.json()["name"] == "Hero watch"
        after = await db.fetchrow(
            "SELECT name, original_key, thumbnail_key, edges_key FROM assets WHERE asset_id = $1",
            uuid.UUID(asset["asset_id"]),
        )
        assert after is not None
        assert after["name"] == "Hero watch"
        assert [after[k] for k in ("original_key", "thumbnail_key", "edges_key")] == list(before.values())
        assert "watch" in before["original_key"] and "Hero" not in before["original_key"]
        assert (await client.get(f"/v1/assets/{asset['asset_id']}")).json()["name"] == "Hero watch"
        problem(await client.patch(f"/v1/assets/{asset['asset_id']}", json={"name": ""}), 422, "name")
        problem(await client.patch(f"/v1/assets/{asset['asset_id']}", json={"title": "x"}), 422, "title")

        deleted = await client.delete(f"/v1/assets/{asset['asset_id']}")
        assert deleted.status_code == 204
        assert (await client.get(f"/v1/assets/{asset['asset_id']}")).status_code == 404
        assert (await client.delete(f"/v1/assets/{asset['asset_id']}")).status_code == 404
    keys = await stack.store().list_keys(f"{me.user_id}/assets/")
    assert not set(before.values()) & set(keys)
    assert len(keys) == 3 and all(k.split("/")[-1].startswith("keep-") for k in keys)
    assert (await leftovers(stack, db, me.user_id))[0] == 1 and keep["asset_id"]


async def test_another_users_asset_is_not_found_everywhere(stack: Stack, db: asyncpg.Pool) -> None:
    owner, stranger = await person(db), await person(db)
    async with stack.client(owner.key) as mine, stack.client(stranger.key) as theirs:
        asset = (await upload(mine, image_bytes("PNG"))).json()["asset_id"]
        own = (await upload(theirs, image_bytes("PNG"))).json()["asset_id"]
        for response in (
            await theirs.get(f"/v1/assets/{asset}"),
            await theirs.patch(f"/v1/assets/{asset}", json={"name": "mine now"}),
            await theirs.delete(f"/v1/assets/{asset}"),
            await theirs.get(f"/v1/assets/{asset}/similar"),
            await theirs.post("/v1/assets/recommendations", json={"asset_ids": [own, asset]}),
        ):
            assert response.status_code == 404, response.text
            assert response.headers["content-type"].startswith("application/problem+json")
            assert asset in response.json()["detail"]
        assert [a["asset_id"] for a in (await theirs.get("/v1/assets")).json()["assets"]] == [own]
        # Untouched by all of that.
        still = (await mine.get(f"/v1/assets/{asset}")).json()
        assert still["name"] == "product.png"
        # Invalid ids name their field, never a 500.
        problem(await mine.get("/v1/assets/not-a-uuid"), 422, "asset_id")
        problem(await mine.patch("/v1/assets/42", json={"name": "x"}), 422, "asset_id")
        problem(await mine.delete("/v1/assets/42"), 422, "asset_id")
        problem(await mine.get("/v1/assets/42/similar"), 422, "asset_id")
        problem(await mine.post("/v1/assets/recommendations", json={"asset_ids": ["x"]}), 422, "asset_ids.0")
        problem(await mine.post("/v1/assets/recommendations", json={"asset_ids": []}), 422, "asset_ids")
    assert (await leftovers(stack, db, owner.user_id))[0] == 1


async def test_without_clip_weights_search_says_so(stack: Stack, db: asyncpg.Pool) -> None:
    me = await person(db)
    async with stack.client(me.key) as client:
        asset = (await upload(client, image_bytes("PNG"))).json()["asset_id"]
        for response in (
            await client.get("/v1/assets/search", params={"q": "a red watch"}),
            await client.get(f"/v1/assets/{asset}/similar"),
            await client.post("/v1/assets/recommendations", json={"asset_ids": [asset]}),
        ):
            assert response.status_code == 503, response.text
            assert response.headers["content-type"].startswith("application/problem+json")
            assert "no CLIP weights are configured" in response.json()["detail"]
        problem(await client.get("/v1/assets/search"), 422, "q")
        problem(await client.get("/v1/assets/search", params={"q": "  "}), 422, "q")
        problem(await client.get("/v1/assets/search", params={"q": "x", "limit": 500}), 422, "limit")
        problem(await client.get("/v1/assets/search", params={"q": "x", "min_score": 2}), 422, "min_score")


async def test_video_requests_only_take_the_callers_own_assets(stack: Stack, db: asyncpg.Pool) -> None:
    owner, stranger = await person(db), await person(db)
    async with stack.client(owner.key) as mine, stack.client(stranger.key) as theirs:
        asset = (await upload(mine, image_bytes("PNG"))).json()["asset_id"]
        second = (await upload(mine, image_bytes("JPEG"))).json()["asset_id"]
        body = {"prompt": "15 second ad for a titanium watch", "duration_s": 15, "asset_ids": [asset]}
        for path in ("/v1/plans", "/v1/quotes", "/v1/videos"):
            refused = problem(await theirs.post(path, json=body), 422, "asset_ids")
            assert asset in refused["errors"][0]["message"]
        gone = {**body, "asset_ids": [str(uuid.uuid4())]}
        problem(await mine.post("/v1/plans", json=gone), 422, "asset_ids")

        plan = await mine.post("/v1/plans", json={**body, "asset_ids": [asset, second]})
        assert plan.status_code == 200, plan.text
        product_beats = [b for b in plan.json()["spec"]["beats"] if b.get("reference_asset_ids")]
        assert product_beats
        # Every product beat keeps both images; the one shown first alternates.
        assert all(sorted(b["reference_asset_ids"]) == sorted([asset, second]) for b in product_beats)
        firsts = [b["reference_asset_ids"][0] for b in product_beats]
        assert firsts[:2] == [asset, second][: len(firsts)]


# -- with CLIP (the real model, randomly initialised weights) ---------------------------------------


@dataclass(frozen=True)
class ClipGateway:
    url: str
    assets: RunningService


@pytest.fixture(scope="module")
async def clip_gateway(stack: Stack) -> AsyncIterator[ClipGateway]:
    """A second gateway in front of an assets service that has a CLIP model."""
    base = base_settings(stack.endpoints)
    assets = await start_service("assets", AssetsSettings(**base, clip_random_weights=True), build_assets)
    http_port = free_port()
    gateway = await start_service(
        "gateway",
        GatewaySettings(
            **base,
            http_port=http_port,
            chunks_addr=stack.address("chunks"),
            export_addr=stack.address("export"),
            planner_addr=stack.address("planner"),
            assets_addr=f"127.0.0.1:{assets.port}",
            voice_addr=stack.address("voice"),
        ),
        build_gateway,
    )
    url = f"http://127.0.0.1:{http_port}"
    async with httpx.AsyncClient() as client:
        for _ in range(200):
            try:
                if (await client.get(f"{url}/healthz")).status_code == 200:
                    break
            except httpx.HTTPError:
                continue
    try:
        yield ClipGateway(url, assets)
    finally:
        await gateway.stop()
        await assets.stop()


async def test_search_similar_and_recommendations_with_clip(
    stack: Stack, db: asyncpg.Pool, clip_gateway: ClipGateway
) -> None:
    owner, stranger = await person(db), await person(db)
    headers = {"Authorization": f"Bearer {owner.key}"}
    async with httpx.AsyncClient(base_url=clip_gateway.url, headers=headers, timeout=60) as mine:
        first = (await upload(mine, image_bytes("PNG", colour=(240, 240, 240)))).json()
        assert first["embedded"] is True and first["near_duplicates"] == []
        again = (await upload(mine, image_bytes("PNG", colour=(240, 240, 240)), filename="again.png")).json()
        assert [d["asset_id"] for d in again["near_duplicates"]] == [first["asset_id"]]
        assert again["near_duplicates"][0]["score"] == pytest.approx(1.0, abs=1e-3)
        other = (await upload(mine, image_bytes("JPEG", colour=(20, 90, 200)), filename="blue.jpg")).json()
        mine_ids = {first["asset_id"], again["asset_id"], other["asset_id"]}

        async with httpx.AsyncClient(
            base_url=clip_gateway.url, headers={"Authorization": f"Bearer {stranger.key}"}, timeout=60
        ) as theirs:
            strangers = (await upload(theirs, image_bytes("PNG", colour=(240, 240, 240)))).json()["asset_id"]
            assert (await theirs.get(f"/v1/assets/{first['asset_id']}/similar")).status_code == 404
            refused = await theirs.post("/v1/assets/recommendations", json={"asset_ids": [first["asset_id"]]})
            assert refused.status_code == 404

        # The stranger's asset is made the exact query vector: the nearest row of the whole table.
        query = "a white product shot"
        assert isinstance(clip_gateway.assets.settings, AssetsSettings)
        model, _ = load_embedder(clip_gateway.assets.settings)
        assert model is not None
        vector = model.embed_texts([query])[0]
        await db.execute(
            "UPDATE assets SET embedding = $2::vector WHERE asset_id = $1", uuid.UUID(strangers), vector_literal(vector)
        )
        found = await mine.get("/v1/assets/search", params={"q": query, "min_score": -1, "limit": 100})
        assert found.status_code == 200, found.text
        results = found.json()["results"]
        assert {r["asset"]["asset_id"] for r in results} == mine_ids
        scores = [r["score"] for r in results]
        assert scores == sorted(scores, reverse=True)
        assert all(set(r["asset"]) == ASSET_FIELDS and r["asset"]["urls"]["original"] for r in results)
        default = (await mine.get("/v1/assets/search", params={"q": query})).json()["results"]
        assert [r["asset"]["asset_id"] for r in default] == [
            r["asset"]["asset_id"] for r in results if r["score"] >= 0.25
        ]

        similar = (await mine.get(f"/v1/assets/{first['asset_id']}/similar", params={"min_score": -1})).json()
        assert [r["asset"]["asset_id"] for r in similar["results"]] == [again["asset_id"], other["asset_id"]]
        default_similar = (await mine.get(f"/v1/assets/{first['asset_id']}/similar")).json()["results"]
        assert all(r["score"] >= 0.70 for r in default_similar)
        assert again["asset_id"] in [r["asset"]["asset_id"] for r in default_similar]

        picked = [first["asset_id"], other["asset_id"]]
        recommended = await mine.post("/v1/assets/recommendations", json={"asset_ids": picked, "limit": 5})
        assert recommended.status_code == 200, recommended.text
        assert [r["asset"]["asset_id"] for r in recommended.json()["results"]] == [again["asset_id"]]
        async with httpx.AsyncClient(timeout=30) as plain:
            link = recommended.json()["results"][0]["asset"]["urls"]["thumbnail"]
            assert (await plain.get(link)).status_code == 200
        assert np.isfinite(recommended.json()["results"][0]["score"])


async def test_the_planner_checks_assets_through_the_assets_service(stack: Stack, db: asyncpg.Pool) -> None:
    owner, stranger = await person(db), await person(db)
    async with stack.client(owner.key) as mine:
        asset = (await upload(mine, image_bytes("PNG"))).json()["asset_id"]
    request = common_pb2.VideoRequest(
        prompt="15 second ad for a titanium watch",
        duration_s=15,
        seed=3,
        aspect_ratio=common_pb2.ASPECT_RATIO_16_9,
        asset_ids=[asset],
    )
    async with grpc.aio.insecure_channel(stack.address("planner")) as channel:
        planner = planner_service_pb2_grpc.PlannerServiceStub(channel)
        spec = (await planner.Plan(planner_service_pb2.PlanRequest(user_id=owner.user_id, request=request))).spec
        assert any(list(b.reference_asset_ids) == [asset] for b in spec.beats)
        for call in (
            planner.Plan(planner_service_pb2.PlanRequest(user_id=stranger.user_id, request=request)),
            planner.Quote(planner_service_pb2.QuoteRequest(user_id=stranger.user_id, request=request)),
        ):
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await call
            assert caught.value.code() == grpc.StatusCode.NOT_FOUND
            assert caught.value.details() == f"asset_ids: asset {asset} not found"
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await planner.Quote(planner_service_pb2.QuoteRequest(request=request))
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "user_id" in (caught.value.details() or "")


async def test_a_queued_plan_naming_another_users_asset_fails_the_video(stack: Stack, db: asyncpg.Pool) -> None:
    owner, stranger = await person(db), await person(db)
    async with stack.client(owner.key) as mine:
        asset = (await upload(mine, image_bytes("PNG"))).json()["asset_id"]
    request = common_pb2.VideoRequest(
        prompt="15 second ad for a titanium watch", duration_s=15, seed=5, aspect_ratio=common_pb2.ASPECT_RATIO_16_9
    )
    request.asset_ids.append(asset)
    # Past the gateway's check (as a direct producer of work would be): the planner refuses it itself.
    video_id = await seeding.video(db, user_id=stranger.user_id, status="queued", request=request)
    nc = await nats.connect(stack.endpoints.nats_url)
    try:
        work = events_pb2.PlanWork(video_id=video_id, user_id=stranger.user_id, request=request)
        await publish_work(nc.jetstream(), "plan", work, f"{video_id}:plan")
        for _ in range(400):
            row = await db.fetchrow("SELECT status, error, spec FROM videos WHERE video_id = $1", uuid.UUID(video_id))
            assert row is not None
            if row["status"] == "failed":
                break
            await asyncio.sleep(0.05)
    finally:
        await nc.close()
    assert row is not None and row["status"] == "failed" and row["spec"] is None
    assert f"asset_ids: asset {asset} not found" in row["error"]


# -- upload quotas ------------------------------------------------------------------------------------

QUOTA_ASSETS, QUOTA_BYTES = 3, 2 * 1024**2


@pytest.fixture(scope="module")
async def quota_gateway(stack: Stack) -> AsyncIterator[str]:
    """A gateway in front of an assets service with a small quota: 3 assets, 2 MiB."""
    settings = AssetsSettings(
        **base_settings(stack.endpoints), asset_quota_count=QUOTA_ASSETS, asset_quota_bytes=QUOTA_BYTES
    )
    assets = await start_service("assets", settings, build_assets)
    try:
        async with extra_gateway(stack, assets_addr=f"127.0.0.1:{assets.port}", **TEST_RATE_LIMITS) as url:
            yield url
    finally:
        await assets.stop()


def over_quota(response: httpx.Response, *words: str) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["retry-after"] == str(RETRY_AFTER_S)
    assert all(w in response.json()["detail"] for w in words), response.json()


async def test_concurrent_uploads_stop_at_the_asset_quota_and_leave_nothing_behind(
    stack: Stack, db: asyncpg.Pool, quota_gateway: str
) -> None:
    me = await person(db)
    async with httpx.AsyncClient(base_url=quota_gateway, headers={"Authorization": f"Bearer {me.key}"}) as client:
        colours = [(40 * i, 200 - 30 * i, 90) for i in range(6)]
        responses = await asyncio.gather(*(upload(client, image_bytes("PNG", colour=c)) for c in colours))
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [201] * QUOTA_ASSETS + [429] * (len(colours) - QUOTA_ASSETS), [r.text for r in responses]
        for refused in (r for r in responses if r.status_code == 429):
            over_quota(refused, f"{QUOTA_ASSETS} of {QUOTA_ASSETS} assets", "delete")
        rows, keys = await leftovers(stack, db, me.user_id)
        assert rows == QUOTA_ASSETS and len(keys) == 3 * QUOTA_ASSETS  # original, thumbnail, edges each
        # Deleting one makes room for one.
        first = next(r.json()["asset_id"] for r in responses if r.status_code == 201)
        assert (await client.delete(f"/v1/assets/{first}")).status_code == 204
        assert (await upload(client, image_bytes("JPEG"), "again.jpg")).status_code == 201
        over_quota(await upload(client, image_bytes("WEBP"), "one-more.webp"), "assets")
    assert (await leftovers(stack, db, me.user_id))[0] == QUOTA_ASSETS


async def test_an_upload_past_the_byte_quota_is_refused_and_leaves_nothing_behind(
    stack: Stack, db: asyncpg.Pool, quota_gateway: str
) -> None:
    me = await person(db)
    noise = np.random.default_rng(1).integers(0, 255, size=(700, 700, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(noise).save(out, "PNG")  # incompressible: ~1.4 MiB
    async with httpx.AsyncClient(base_url=quota_gateway, headers={"Authorization": f"Bearer {me.key}"}) as client:
        stored = await upload(client, out.getvalue(), "noise.png")
        assert stored.status_code == 201, stored.text
        used = await db.fetchval("SELECT sum(stored_bytes) FROM assets WHERE user_id = $1", uuid.UUID(me.user_id))
        keys = await stack.store().list_keys(f"{me.user_id}/assets/")
        sizes = [len(await stack.store().get_bytes(k)) for k in keys]
        assert used == sum(sizes) and QUOTA_BYTES / 2 < used < QUOTA_BYTES  # all three objects counted
        over_quota(await upload(client, out.getvalue(), "noise-2.png"), "MiB of 2.0 MiB", "delete")
        assert (await upload(client, image_bytes("PNG"), "small.png")).status_code == 201  # still fits
    rows, keys = await leftovers(stack, db, me.user_id)
    assert rows == 2 and len(keys) == 6
