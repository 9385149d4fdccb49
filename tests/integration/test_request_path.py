"""The request path: one middleware around the router, the append body read once."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from app.settings import Settings
from app.web.middleware import RequestObservability
from app.web.routes import events
from tests.builders import case_opened, employment_started
from tests.conftest import Api


def test_the_middleware_is_added_the_documented_way_and_the_hot_paths_are_plain_routes() -> None:
    from app.web.access_log import AccessRecorderMiddleware
    from app.web.app import PLAIN_OPERATIONS, create_app
    from app.web.plain import NamedRoute

    app = create_app(Settings(database_url="postgresql://unused/none"))
    # the access record (issue 13) outside, then the request's observability and body limit
    assert [m.cls for m in app.user_middleware] == [AccessRecorderMiddleware, RequestObservability]
    assert app.user_middleware[1].kwargs["max_body_bytes"] == 1024 * 1024
    plain = {(op.method, op.path) for op in PLAIN_OPERATIONS}
    assert plain == {
        ("POST", "/cases/{case_id}/events"),
        ("GET", "/events"),
        ("GET", "/cases/{case_id}/closure-clock"),
        ("GET", "/closure-clock/worklist"),
    }
    # matched first, by the app's own router
    first = app.router.routes[: len(plain)]
    assert all(type(r) is NamedRoute for r in first)
    assert {(next(iter(r.methods - {"HEAD"})), r.path) for r in first} == plain  # type: ignore[operator]


async def test_a_usual_append_takes_the_fast_path(
    api: Api, case_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Any] = []

    def spy(body: bytes) -> Any:
        seen.append(parsed := proposed_of(body))
        return parsed

    proposed_of = events.proposed_of
    monkeypatch.setattr(events, "proposed_of", spy)
    r = await api.append(case_id, case_opened(), employment_started())
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 2 and not r.json()["idempotent_replay"]
    assert len(seen) == 1 and seen[0] is not None and len(seen[0][1]) == 2


async def test_a_body_the_fast_path_leaves_is_still_validated_as_fastapi_would(
    api: Api, case_id: str
) -> None:
    # "0" is coerced by AppendIn (lax mode), as before: FastAPI's path answers
    r = await api.client.post(
        f"/cases/{case_id}/events",
        content=orjson.dumps({"expected_version": "0", "events": [case_opened()]}),
        headers={**api.headers("case_system"), "content-type": "application/json"},
    )
    assert r.status_code == 201, r.text
    # a charset the fast path does not read, same answer
    r = await api.client.post(
        f"/cases/{case_id}/events",
        content=orjson.dumps({"expected_version": 1, "events": [employment_started()]}),
        headers={**api.headers("case_system"), "content-type": "application/json; charset=UTF-8"},
    )
    assert r.status_code == 201 and r.json()["version"] == 2, r.text


async def test_the_fast_path_checks_the_key_and_role(api: Api, case_id: str) -> None:
    body = orjson.dumps({"events": [case_opened()]})
    json = {"content-type": "application/json"}
    r = await api.client.post(f"/cases/{case_id}/events", content=body, headers=json)
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    r = await api.client.post(
        f"/cases/{case_id}/events", content=body, headers={**json, **api.headers("auditor")}
    )
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    r = await api.client.post(
        f"/cases/{case_id}/events", content=body, headers={**json, **api.headers("case_system")}
    )
    assert r.status_code == 201


async def test_a_bad_parameter_is_refused_after_one_key_lookup(
    api: Api, case_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Authentication runs once per request, also when a parameter then fails validation."""
    from app.service.keys import KeyCache

    lookups: list[str] = []
    principal = KeyCache.principal

    async def counted(self: KeyCache, pool: Any, key: str) -> Any:
        lookups.append(key)
        return await principal(self, pool, key)

    monkeypatch.setattr(KeyCache, "principal", counted)
    for path in (
        "/cases/c1/closure-clock?as_of=nope",
        "/closure-clock/worklist?limit=0",
        "/events?after=-1",
        "/cases/bad%20id/closure-clock",
    ):
        lookups.clear()
        r = await api.get(path)
        assert r.status_code == 422 and r.json()["code"] == "invalid_request", (path, r.text)
        assert len(lookups) == 1, path
    lookups.clear()
    r = await api.client.post(
        f"/cases/{case_id}/events", content=b'{"events": [', headers=api.headers("case_system")
    )
    assert r.status_code == 422 and len(lookups) == 1


async def test_a_parameter_error_names_where_it_is(api: Api) -> None:
    r = await api.get("/cases/c1/closure-clock?as_of=2024-02-30&known_at=x")
    locs = [e["loc"] for e in r.json()["errors"]]
    assert r.status_code == 422 and ["query", "as_of"] in locs and ["query", "known_at"] in locs
    r = await api.get("/cases/bad~id/closure-clock")
    assert [e["loc"] for e in r.json()["errors"]] == [["path", "case_id"]]
