"""POST /v1/plans carries each beat's voiceover line; `voiceover: false` empties them; a malformed
or unknown voice key is a 422 naming the field. The planner behind the route is the rule-based
composer and the Spec mapping that the planner service runs, so the lines are the ones a real plan
gets; the voice service behind it answers a fixed list."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from adgen.common.v1 import common_pb2 as c
from adgen_gateway import errors
from adgen_gateway.auth import User
from adgen_gateway.dependencies import backends, current_user
from adgen_gateway.routes import plans
from adgen_planner.composer import PlanRequest
from adgen_planner.llm_composer import compose_with_rules
from adgen_planner.spec_mapping import plan_to_spec


class RulesPlanner:
    """The planner client's `plan`, answered in process; keeps the requests it was sent."""

    def __init__(self) -> None:
        self.requests: list[c.VideoRequest] = []

    async def plan(self, request: c.VideoRequest, user_id: str) -> c.Spec:
        self.requests.append(request)
        wanted = PlanRequest(request.prompt, request.duration_s, request.creativity, request.seed)
        return plan_to_spec(compose_with_rules(wanted).plan, request)


class ListedVoices:
    """The voice client's `keys`, answered in process."""

    async def keys(self) -> list[str]:
        return ["piper-joe"]


@pytest.fixture
def planner() -> RulesPlanner:
    return RulesPlanner()


@pytest.fixture
def client(planner: RulesPlanner) -> Iterator[TestClient]:
    app = FastAPI()
    errors.install(app)
    app.include_router(plans.router)
    app.dependency_overrides[current_user] = lambda: User("u-1", "tester", 1)
    app.dependency_overrides[backends] = lambda: SimpleNamespace(
        planner=planner, chunks=None, assets=None, voice=ListedVoices()
    )
    with TestClient(app, raise_server_exceptions=False) as running:
        yield running


WATCH = {"prompt": "ad for a titanium watch by Acme, luxury feel", "duration_s": 20, "seed": 4}


def test_the_plan_shows_a_line_for_every_beat_and_voiceover_is_on_by_default(
    client: TestClient, planner: RulesPlanner
) -> None:
    response = client.post("/v1/plans", json=WATCH)
    assert response.status_code == 200, response.text
    beats = response.json()["spec"]["beats"]
    assert all(b["voiceover"] and b["voiceover"][-1] in ".!?" for b in beats)
    assert "titanium watch" in beats[0]["voiceover"] and "Acme" in beats[0]["voiceover"]
    (sent,) = planner.requests
    assert sent.HasField("voiceover") and sent.voiceover and sent.voice == ""


def test_voiceover_false_empties_every_line_and_the_voice_key_is_passed_on(
    client: TestClient, planner: RulesPlanner
) -> None:
    response = client.post("/v1/plans", json={**WATCH, "voiceover": False, "voice": "piper-joe"})
    assert response.status_code == 200, response.text
    beats = response.json()["spec"]["beats"]
    assert beats and all(b["voiceover"] == "" for b in beats)
    (sent,) = planner.requests
    assert sent.HasField("voiceover") and not sent.voiceover and sent.voice == "piper-joe"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**WATCH, "voice": "Joe <speak>"}, "voice"),
        ({**WATCH, "voice": "j" * 65}, "voice"),
        ({**WATCH, "voice": "joe"}, "voice"),  # well formed, but no voice of that key exists
        ({**WATCH, "voiceover": "loud"}, "voiceover"),
    ],
)
def test_a_bad_voice_field_is_a_problem_naming_it(
    client: TestClient, planner: RulesPlanner, body: dict, field: str
) -> None:
    response = client.post("/v1/plans", json=body)
    assert response.status_code == 422 and response.headers["content-type"] == errors.PROBLEM
    assert [e["field"] for e in response.json()["errors"]] == [field], response.json()
    assert planner.requests == []
