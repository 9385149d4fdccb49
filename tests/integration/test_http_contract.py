"""The HTTP contract at its edges (contract sections 1, 5, 6): bad input, keys, idempotency.

Every refusal is RFC 9457 problem+json with a stable `code`, and a refused request stores nothing.
"""

from __future__ import annotations

import time
import uuid
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from app.service import keys as auth
from app.service.keys import create_key, revoke_key
from app.store.migrations import head_revision
from tests.builders import (
    authorization,
    case_opened,
    employment_started,
    ev,
    paid,
    with_id,
)
from tests.conftest import make_api

PROBLEM = "application/problem+json"


def problem(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM), r.headers
    body = r.json()
    assert body["code"] == code, body
    assert body["status"] == status and body["title"] and body["detail"]
    assert body["type"].endswith(f"/{code}")
    return body


async def stored(api: Any, case_id: str) -> list[dict[str, Any]]:
    r = await api.get(f"/cases/{case_id}/events")
    if r.status_code == 404:
        return []
    assert r.status_code == 200, r.text
    return r.json()["events"]


async def opened(api: Any, case_id: str) -> None:
    r = await api.append(case_id, case_opened())
    assert r.status_code == 201, r.text


def _with_data(event: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**event, "data": {**event["data"], **changes}}


# --- bad bodies ----------------------------------------------------------------------------------

BAD_EVENTS: dict[str, tuple[Any, list[Any] | None]] = {
    # name: (the events list or whole body, the loc an error must name)
    "unknown_event_type": ([ev("EmploymentBegan", job_id="j1")], ["events", 0, "type"]),
    "invalid_date": ([employment_started(start="2024-02-30")], ["events", 0, "data", "start_date"]),
    "date_with_time": (
        [employment_started(start="2024-02-01T00:00:00")],
        ["events", 0, "data", "start_date"],
    ),
    "amount_with_three_decimals": (
        [authorization("A1", "2024-02-01", "2024-03-01", amount="12.345")],
        ["events", 0, "data", "amount"],
    ),
    "amount_as_a_float": (
        [authorization("A1", "2024-02-01", "2024-03-01", amount=12.34)],
        ["events", 0, "data", "amount"],
    ),
    "negative_amount": (
        [authorization("A1", "2024-02-01", "2024-03-01", amount="-5.00")],
        ["events", 0, "data", "amount"],
    ),
    "soc_without_dash": ([employment_started(soc="352014")], ["events", 0, "data", "soc_code"]),
    "unknown_data_field": (
        [_with_data(employment_started(), shoe_size=44)],
        ["events", 0, "data", "shoe_size"],
    ),
    "missing_data_field": (
        [ev("AuthorizationPaid", authorization_id="A1", payment_date="2024-03-01", amount="1.00")],
        ["events", 0, "data", "paid_in_full"],
    ),
    "bool_as_string": (
        [paid("A1", "2024-03-01") | {"data": {**paid("A1", "2024-03-01")["data"], "paid_in_full": "true"}}],
        ["events", 0, "data", "paid_in_full"],
    ),
    "end_before_start": ([authorization("A1", "2024-03-01", "2024-02-01")], None),
    "event_id_not_a_uuid": ([{**employment_started(), "event_id": "not-a-uuid"}], None),
    "extra_event_field": ([{**employment_started(), "when": "now"}], None),
    "no_events": ([], None),
}


@pytest.mark.parametrize("name", list(BAD_EVENTS))
async def test_each_invalid_event_is_422_invalid_event_and_stores_nothing(api, case_id, name):
    await opened(api, case_id)
    events, loc = BAD_EVENTS[name]
    # a good event in the same batch is not stored either: all or nothing
    good = authorization("OK1", "2024-02-01", "2024-03-01")
    r = await api.post(f"/cases/{case_id}/events", {"events": [good, *events] if events else []})
    body = problem(r, 422, "invalid_event")
    assert body["errors"], body
    if loc is not None:
        shifted = [loc[0], loc[1] + 1, *loc[2:]]
        assert shifted in [e["loc"] for e in body["errors"]] or ["body", *shifted] in [
            e["loc"] for e in body["errors"]
        ], body["errors"]
    assert len(await stored(api, case_id)) == 1


async def test_extra_top_level_field_is_422_invalid_event(api, case_id):
    await opened(api, case_id)
    r = await api.post(f"/cases/{case_id}/events", {"events": [employment_started()], "dry_run": True})
    body = problem(r, 422, "invalid_event")
    assert any("dry_run" in map(str, e["loc"]) for e in body["errors"])
    assert len(await stored(api, case_id)) == 1


async def test_malformed_json_is_a_problem_and_stores_nothing(api, case_id):
    await opened(api, case_id)
    for raw in (b'{"events": [', b"not json at all", b'{"events": [{"type": "CaseOpened",}]}'):
        r = await api.client.post(
            f"/cases/{case_id}/events",
            content=raw,
            headers={**api.headers("case_system"), "content-type": "application/json"},
        )
        body = problem(r, 422, "invalid_event")
        assert "json" in body["detail"].lower() or any("json" in e["type"] for e in body["errors"]), body
    r = await api.client.post(
        f"/cases/{case_id}/events",
        content=b"[1, 2]",
        headers={**api.headers("case_system"), "content-type": "application/json"},
    )
    problem(r, 422, "invalid_event")
    assert len(await stored(api, case_id)) == 1


async def test_a_body_over_one_mebibyte_is_413_body_too_large(api, case_id):
    await opened(api, case_id)
    big = {"events": [_with_data(employment_started(), employer="x" * (1024 * 1024 + 10))]}
    r = await api.post(f"/cases/{case_id}/events", big)
    problem(r, 413, "body_too_large")
    assert len(await stored(api, case_id)) == 1


async def test_a_streamed_body_over_one_mebibyte_is_413_body_too_large(api, case_id):
    """No Content-Length (chunked upload): the limit is enforced while reading."""
    await opened(api, case_id)

    async def chunks():
        yield b'{"events": [{"type": "EmploymentStarted", "data": {"employer": "'
        for _ in range(20):
            yield b"x" * 65536
        yield b'"}}]}'

    r = await api.client.post(
        f"/cases/{case_id}/events",
        content=chunks(),
        headers={**api.headers("case_system"), "content-type": "application/json"},
    )
    problem(r, 413, "body_too_large")
    assert len(await stored(api, case_id)) == 1


@pytest.mark.parametrize("bad", ["bad case!", "a" * 65, "has~tilde", "semi;colon"])
async def test_an_invalid_case_id_in_the_path_is_422(api, bad):
    r = await api.append(bad, case_opened())
    problem(r, 422, "invalid_request")
    r = await api.get(f"/cases/{bad}/closure-clock")
    problem(r, 422, "invalid_request")


async def test_unknown_route_and_method_are_problems_too(api):
    problem(await api.get("/no/such/route"), 404, "not_found")
    r = await api.client.delete("/healthz")
    problem(r, 405, "method_not_allowed")


# --- case rules at the boundary ------------------------------------------------------------------


async def test_an_event_on_a_case_without_case_opened_is_404_case_not_found(api, case_id):
    body = problem(await api.append(case_id, employment_started()), 404, "case_not_found")
    assert "CaseOpened" in body["detail"]
    assert await stored(api, case_id) == []
    problem(await api.get(f"/cases/{case_id}/events"), 404, "case_not_found")


async def test_case_opened_twice_is_409_rule_violation(api, case_id):
    await opened(api, case_id)
    body = problem(await api.append(case_id, case_opened("2024-03-01")), 409, "rule_violation")
    assert body["rule"] == "case_already_opened"
    assert len(await stored(api, case_id)) == 1


# --- optimistic concurrency ----------------------------------------------------------------------


async def test_stale_expected_version_is_409_version_conflict_with_the_current_version(api, case_id):
    r = await api.append(case_id, case_opened(), expected_version=0)
    assert r.status_code == 201 and r.json()["version"] == 1
    assert (await api.append(case_id, employment_started(), expected_version=1)).status_code == 201
    body = problem(
        await api.append(case_id, employment_started("j2"), expected_version=1),
        409,
        "version_conflict",
    )
    assert body["current_version"] == 2
    body = problem(
        await api.append(case_id, employment_started("j2"), expected_version=7),
        409,
        "version_conflict",
    )
    assert body["current_version"] == 2
    assert len(await stored(api, case_id)) == 2


async def test_expected_version_zero_on_an_existing_stream_is_a_version_conflict(api, case_id):
    await opened(api, case_id)
    body = problem(await api.append(case_id, case_opened(), expected_version=0), 409, "version_conflict")
    assert body["current_version"] == 1
    other = f"{case_id}-new"
    body = problem(await api.append(other, case_opened(), expected_version=3), 409, "version_conflict")
    assert body["current_version"] == 0
    assert await stored(api, other) == []


async def test_a_negative_expected_version_is_invalid(api, case_id):
    r = await api.append(case_id, case_opened(), expected_version=-1)
    problem(r, 422, "invalid_event")


# --- keys and roles ------------------------------------------------------------------------------


async def test_missing_or_bad_key_is_401(api, case_id):
    for headers in (
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer cl_not-a-key"},
    ):
        r = await api.client.post(
            f"/cases/{case_id}/events", json={"events": [case_opened()]}, headers=headers
        )
        problem(r, 401, "unauthorized")
        assert r.headers["www-authenticate"] == "Bearer"
        r = await api.client.get(f"/cases/{case_id}/closure-clock", headers=headers)
        problem(r, 401, "unauthorized")
    assert await stored(api, case_id) == []


async def test_a_revoked_key_is_refused_once_the_cache_expires(api, pool, database_url, case_id, monkeypatch):
    async with pool.acquire() as conn:
        key_id, key = await create_key(conn, role="case_system")
    headers = {"Authorization": f"Bearer {key}"}
    r = await api.client.post(f"/cases/{case_id}/events", json={"events": [case_opened()]}, headers=headers)
    assert r.status_code == 201, r.text
    async with pool.acquire() as conn:
        assert await revoke_key(conn, key_id)
    # a fresh app (a replica that never saw the key) refuses it at once
    async for fresh in make_api(database_url, pool):
        r = await fresh.client.get(f"/cases/{case_id}/events", headers=headers)
        problem(r, 401, "unauthorized")
    # and this app refuses it once its cache entry is older than the TTL
    later = time.monotonic() + auth.CACHE_SECONDS + 1
    monkeypatch.setattr(auth, "time", SimpleNamespace(monotonic=lambda: later))
    r = await api.client.post(
        f"/cases/{case_id}/events", json={"events": [employment_started()]}, headers=headers
    )
    problem(r, 401, "unauthorized")
    assert len(await stored(api, case_id)) == 1


async def test_a_role_that_may_not_do_it_is_403(api, pool, case_id):
    await opened(api, case_id)
    problem(await api.append(case_id, employment_started(), role="auditor"), 403, "forbidden")
    api.keys["prov_contract"] = await api.key_for(pool, "provider", provider_id="prov-contract")
    problem(await api.get(f"/cases/{case_id}/events", role="prov_contract"), 403, "forbidden")
    problem(await api.get("/events", role="prov_contract"), 403, "forbidden")
    problem(await api.get(f"/cases/{case_id}/history", role="prov_contract"), 403, "forbidden")
    problem(await api.get(f"/cases/{case_id}/verify", role="case_system"), 403, "forbidden")
    problem(await api.append(case_id, employment_started(), role="prov_contract"), 403, "forbidden")
    assert len(await stored(api, case_id)) == 1
    # admin may do everything
    assert (await api.append(case_id, employment_started(), role="admin")).status_code == 201
    assert (await api.get(f"/cases/{case_id}/verify", role="admin")).json()["ok"] is True


# --- idempotency ---------------------------------------------------------------------------------


async def test_the_same_event_id_and_content_twice_is_one_event_and_the_same_answer(api, pool, case_id):
    await opened(api, case_id)
    event_id = uuid.uuid4()
    event = with_id(employment_started(), event_id)
    first = await api.append(case_id, event)
    second = await api.append(case_id, event)
    assert first.status_code == second.status_code == 201, second.text
    a, b = first.json(), second.json()
    assert (a["idempotent_replay"], b["idempotent_replay"]) == (False, True)
    assert a["version"] == b["version"] == 2
    assert a["events"] == b["events"]
    assert a["events"][0]["event_id"] == str(event_id)
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM events WHERE event_id = $1", event_id) == 1
    assert len(await stored(api, case_id)) == 2

    # the original answer also after the case moved on, and with the original expected_version
    assert (await api.append(case_id, authorization("A1", "2024-02-05", "2024-03-31"))).status_code == 201
    r = await api.append(case_id, event, expected_version=1)
    assert r.status_code == 201 and r.json() == b
    assert len(await stored(api, case_id)) == 3


async def test_a_batch_retried_with_its_event_ids_is_replayed_whole(api, case_id):
    ids = [uuid.uuid4(), uuid.uuid4()]
    batch = [with_id(case_opened(), ids[0]), with_id(employment_started(), ids[1])]
    first = await api.append(case_id, *batch, expected_version=0)
    again = await api.append(case_id, *batch, expected_version=0)
    assert first.status_code == again.status_code == 201
    assert [e["position"] for e in first.json()["events"]] == [e["position"] for e in again.json()["events"]]
    assert again.json()["idempotent_replay"] is True
    assert len(await stored(api, case_id)) == 2


async def test_the_same_event_id_with_other_content_is_409_idempotency_conflict(api, case_id):
    await opened(api, case_id)
    event_id = uuid.uuid4()
    assert (await api.append(case_id, with_id(employment_started("j1"), event_id))).status_code == 201
    problem(
        await api.append(case_id, with_id(employment_started("j2"), event_id)),
        409,
        "idempotency_conflict",
    )
    problem(
        await api.append(case_id, with_id(paid("A1", "2024-03-01"), event_id)),
        409,
        "idempotency_conflict",
    )
    # nor may another case reuse it
    other = f"{case_id}-other"
    problem(await api.append(other, with_id(case_opened(), event_id)), 409, "idempotency_conflict")
    assert len(await stored(api, case_id)) == 2 and await stored(api, other) == []


async def test_the_same_event_id_twice_in_one_batch_is_invalid(api, case_id):
    event_id = uuid.uuid4()
    r = await api.append(case_id, with_id(case_opened(), event_id), with_id(employment_started(), event_id))
    problem(r, 422, "invalid_event")
    assert await stored(api, case_id) == []


# --- metadata ------------------------------------------------------------------------------------


async def test_the_server_sets_metadata_actor_from_the_key(api, case_id):
    correlation = str(uuid.uuid4())
    event = {
        **case_opened(),
        "metadata": {
            "actor": "mallory",
            "source": "qe2",
            "correlation_id": correlation,
            "batch": 7,
        },
    }
    assert (await api.append(case_id, event)).status_code == 201
    [stored_event] = await stored(api, case_id)
    metadata = stored_event["metadata"]
    assert metadata["actor"] != "mallory" and metadata["actor"].startswith("case_system:")
    assert (metadata["source"], metadata["correlation_id"], metadata["batch"]) == (
        "qe2",
        correlation,
        7,
    )
    # and the hash chain covers what was stored
    assert (await api.get(f"/cases/{case_id}/verify", role="auditor")).json()["ok"] is True


# --- health --------------------------------------------------------------------------------------


async def test_healthz_and_readyz_need_no_key(api):
    r = await api.client.get("/healthz")
    assert (r.status_code, r.json()) == (200, {"status": "ok"})
    r = await api.client.get("/readyz")
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "ready", "revision": head_revision()}
