"""The request path: one middleware around the router, the append body read once."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from app.settings import Settings
from app.web.middleware import RequestObservability
from app.web.routes import events
from tests.conftest import Api
from tests.integration.events_fixtures import case_opened, employment_started


def test_the_middleware_stack_is_one_layer_around_the_router() -> None:
    from app.web.app import create_app

    app = create_app(Settings(database_url="postgresql://unused/none"))
    stack = app.build_middleware_stack()
    assert isinstance(stack, RequestObservability) and stack.app is app.router
    assert stack.max_body_bytes == 1024 * 1024 and stack.handlers is not None


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


async def test_a_body_the_fast_path_leaves_is_still_validated_by_fastapi(api: Api, case_id: str) -> None:
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


async def test_the_append_route_included_through_a_router_reads_the_body_once_too(
    database_url: str, pool: Any, case_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Included with include_router, the fast path is the route handler (not its ASGI app)."""
    import httpx
    from fastapi import FastAPI

    from app.service.keys import create_key
    from app.web.app import create_app
    from app.web.problems import install_problem_handlers

    served = create_app(Settings(database_url=database_url), database_url=database_url)
    async with served.router.lifespan_context(served), pool.acquire() as conn:
        key = (await create_key(conn, role="case_system"))[1]
        included = FastAPI()
        install_problem_handlers(included)
        included.include_router(events.router)
        included.state.ctx = served.state.ctx
        seen: list[Any] = []
        proposed_of = events.proposed_of
        monkeypatch.setattr(events, "proposed_of", lambda body: seen.append(1) or proposed_of(body))
        transport = httpx.ASGITransport(app=included)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            headers = {"Authorization": f"Bearer {key}", "content-type": "application/json"}
            ok = await client.post(
                f"/cases/{case_id}/events", content=orjson.dumps({"events": [case_opened()]}), headers=headers
            )
            bad = await client.post(f"/cases/{case_id}/events", content=b'{"events": [', headers=headers)
    assert ok.status_code == 201 and ok.json()["version"] == 1, ok.text
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_event", bad.text
    assert seen == [1, 1]
