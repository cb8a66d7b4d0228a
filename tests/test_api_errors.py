"""Bad requests get a clear 4xx problem+json naming the field; nobody sees another user's video."""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.xdist_group("stack")

GOOD = {"prompt": "ad for running shoes", "duration_s": 15}


@pytest.fixture(scope="module")
async def key(stack) -> str:
    return await stack.new_user(f"errors-{uuid.uuid4().hex[:8]}")


def assert_problem(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["detail"]
    assert "Traceback" not in response.text
    if field is not None:
        assert field in [e["field"] for e in body.get("errors", [])], body
        assert field in body["detail"]
    return body


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"prompt": ""}, "prompt"),
        ({"prompt": "   "}, "prompt"),
        ({"prompt": "x" * 10_000}, "prompt"),
        ({"duration_s": 7}, "duration_s"),
        ({"duration_s": 3600}, "duration_s"),
        ({"duration_s": "long"}, "duration_s"),
        ({"creativity": 2}, "creativity"),
        ({"aspect_ratio": "4:3"}, "aspect_ratio"),
        ({"video_model": "no-such-model"}, "video_model"),
        ({"asset_ids": ["not-a-uuid"]}, "asset_ids.0"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_bad_create_requests_name_the_field(stack, key, change, field) -> None:
    async with stack.client(key) as client:
        response = await client.post("/v1/videos", json={**GOOD, **change})
    assert_problem(response, 422, field)


async def test_missing_prompt_and_malformed_json(stack, key) -> None:
    async with stack.client(key) as client:
        assert_problem(await client.post("/v1/videos", json={"duration_s": 15}), 422, "prompt")
        malformed = await client.post("/v1/videos", content=b"{not json", headers={"content-type": "application/json"})
        assert_problem(malformed, 422)


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer adg_wrong", "Basic dXNlcjpwYXNz"])
async def test_missing_or_wrong_api_key_is_401(stack, header) -> None:
    import httpx

    headers = {"Authorization": header} if header else {}
    async with httpx.AsyncClient(base_url=stack.url, headers=headers) as client:
        response = await client.post("/v1/videos", json=GOOD)
    body = assert_problem(response, 401)
    assert "key" in body["detail"].lower()


async def test_other_users_video_is_not_found_and_a_second_active_video_is_refused(stack) -> None:
    owner = await stack.new_user(f"owner-{uuid.uuid4().hex[:8]}")
    stranger = await stack.new_user(f"stranger-{uuid.uuid4().hex[:8]}")
    async with stack.client(owner) as mine, stack.client(stranger) as theirs:
        created = await mine.post("/v1/videos", json={**GOOD, "duration_s": 10})
        assert created.status_code == 202
        video_id = created.json()["id"]
        second = await mine.post("/v1/videos", json=GOOD)
        body = assert_problem(second, 429)
        assert video_id in body["detail"] and second.headers["retry-after"]
        for path in ("", "/events", "/download"):
            assert_problem(await theirs.get(f"/v1/videos/{video_id}{path}"), 404)
        assert_problem(await mine.get(f"/v1/videos/{uuid.uuid4()}"), 404)
        assert_problem(await mine.get("/v1/videos/not-an-id"), 404)
        # Drain the owner's video so that the session's other tests are not slowed by it.
        async with mine.stream("GET", f"/v1/videos/{video_id}/events", timeout=300) as stream:
            async for line in stream.aiter_lines():
                if "VIDEO_STATUS_COMPLETED" in line or "VIDEO_STATUS_FAILED" in line:
                    break
        assert (await mine.get(f"/v1/videos/{video_id}")).json()["status"] == "completed"


async def test_openapi_is_served(stack) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=stack.url) as client:
        spec = (await client.get("/openapi.json")).json()
        assert "/v1/videos" in spec["paths"]
        assert (await client.get("/docs")).status_code == 200
