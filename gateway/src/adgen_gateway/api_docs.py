"""What the OpenAPI document says about failures: every error is `application/problem+json` (see
errors.py), and each operation lists the statuses it can answer with, so generated clients and
schema-based fuzzers (tests/test_fuzz_api.py) can hold the gateway to them."""

from __future__ import annotations

from typing import Any

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "What went wrong and what to do about it"},
        "errors": {
            "type": "array",
            "description": "The fields at fault, when the request names them",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}

_DESCRIPTIONS = {
    400: "Malformed request (e.g. a page token this API did not make)",
    401: "Missing or unknown API key",
    404: "No such resource for this API key",
    408: "The request body arrived too slowly",
    409: "The resource is in a state that does not allow this",
    413: "The request body is too large",
    415: "Unsupported content type",
    422: "Invalid request: `errors` names each field at fault",
    429: "Rate limit, active-video limit or asset storage quota: wait `Retry-After` seconds",
    502: "A backend service failed",
    503: "A backend service is unavailable",
    504: "A backend service timed out",
}

_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again", "schema": {"type": "integer"}}}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries for these statuses, each a problem+json body."""
    return {
        status: {
            "description": _DESCRIPTIONS[status],
            "content": {"application/problem+json": {"schema": PROBLEM_SCHEMA}},
            **({"headers": _RETRY_AFTER} if status == 429 else {}),
        }
        for status in statuses
    }


# Any authenticated API call: the key, the rate limit, the body guard, the validation and the backends.
API_PROBLEMS = problems(401, 408, 413, 422, 429, 502, 503, 504)


def links(source: str, targets: dict[str, tuple[str, str]]) -> dict[str, Any]:
    """OpenAPI links from a response's id (`source`, a JSON pointer into the body) to the operations
    that take it: {name: (method, path)}, the path's one parameter filled from the body."""
    result = {}
    for name, (method, path) in targets.items():
        parameter = path[path.index("{") + 1 : path.index("}")]
        pointer = path.replace("~", "~0").replace("/", "~1")
        result[name] = {
            "operationRef": f"#/paths/{pointer}/{method.lower()}",
            "parameters": {parameter: f"$response.body#{source}"},
        }
    return result
