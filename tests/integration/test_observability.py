"""Operations: /metrics, the request id and the JSON logs, over HTTP on a real database."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import sys
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.observability.logs import JsonFormatter, configure_logging
from app.store.pool import Pool
from tests.builders import case_opened, employment_started
from tests.conftest import Api, make_api

TEMPLATE = "/cases/{case_id}/events"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture(scope="module")
async def ops(database_url: str, pool: Pool) -> AsyncIterator[Api]:
    """An app of its own: its metrics registry starts empty (and coexists with `api`'s)."""
    async for api in make_api(database_url, pool):
        yield api


async def scrape(api: Api) -> Samples:
    response = await api.get("/metrics", role="auditor")
    assert response.status_code == 200, response.text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Every record any logger emits during the test, formatted as the service writes it."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield out
    finally:
        root.removeHandler(handler)


async def test_metrics_needs_an_auditor_or_admin_key(ops: Api) -> None:
    assert (await ops.client.get("/metrics")).status_code == 401
    assert (await ops.get("/metrics", role="case_system")).status_code == 403
    for role in ("auditor", "admin"):
        response = await ops.get("/metrics", role=role)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        names = {f.name for f in text_string_to_metric_families(response.text)}
        assert {
            "caseledger_http_request_duration_seconds",
            "caseledger_events_appended",
            "caseledger_feed_lag_seconds",
            "caseledger_projection_lag_events",
        } <= names


async def test_counters_follow_appends_refusals_and_conflicts(ops: Api, case_id: str) -> None:
    before = await scrape(ops)
    assert (await ops.append(case_id, case_opened(), employment_started())).status_code == 201
    refused = await ops.append(case_id, case_opened())
    assert refused.status_code == 409 and refused.json()["rule"] == "case_already_opened"
    conflict = await ops.append(case_id, employment_started("j2"), expected_version=0)
    assert conflict.status_code == 409 and conflict.json()["code"] == "version_conflict"
    after = await scrape(ops)

    def rose(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert rose("caseledger_events_appended_total", type="CaseOpened") == 1
    assert rose("caseledger_events_appended_total", type="EmploymentStarted") == 1
    assert rose("caseledger_rule_refusals_total", rule="case_already_opened") == 1
    assert rose("caseledger_version_conflicts_total") == 1
    assert rose("caseledger_http_problems_total", code="rule_violation") == 1
    count = "caseledger_http_request_duration_seconds_count"
    assert rose(count, route=TEMPLATE, method="POST", status_class="2xx") == 1
    assert rose(count, route=TEMPLATE, method="POST", status_class="4xx") == 2
    assert not [k for k in after if any(case_id in v for _, v in k[1])], "a case id in a label"
    assert value(after, "caseledger_projection_lag_events") == 0


async def test_racing_appends_count_every_conflict(ops: Api, case_id: str) -> None:
    assert (await ops.append(case_id, case_opened())).status_code == 201
    before = await scrape(ops)
    answers = await asyncio.gather(
        *(ops.append(case_id, employment_started(f"j{i}"), expected_version=1) for i in range(6))
    )
    after = await scrape(ops)
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] + [409] * 5
    conflicts = value(after, "caseledger_version_conflicts_total") - value(
        before, "caseledger_version_conflicts_total"
    )
    assert conflicts == 5


async def test_a_lost_race_is_retried_and_counted(ops: Api, owner_pool: Pool, case_id: str) -> None:
    """Two appends read version 1; one commits version 2 first, the other hits the unique key,
    counts a lost race and retries to version 3. A held row lock makes the race certain."""
    assert (await ops.append(case_id, case_opened())).status_code == 201
    before = await scrape(ops)
    async with owner_pool.acquire() as blocker:  # a row lock needs UPDATE: the owner's
        hold = blocker.transaction()
        await hold.start()
        await blocker.execute("SELECT 1 FROM case_state WHERE case_id = $1 FOR UPDATE", case_id)
        racers = [asyncio.create_task(ops.append(case_id, employment_started(f"j{i}"))) for i in range(2)]
        for _ in range(500):
            waiting = await blocker.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock'"
            )
            if waiting >= 2:
                break
            await asyncio.sleep(0.01)
        await hold.commit()
        answers = await asyncio.gather(*racers)
    after = await scrape(ops)
    assert sorted(a.json()["version"] for a in answers) == [2, 3]
    races = "caseledger_append_races_total"
    assert value(after, races) - value(before, races) == 1


async def test_feed_lag_is_the_age_of_the_transaction_holding_the_horizon(ops: Api, pool: Pool) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await conn.fetchval("SELECT pg_current_xact_id()")  # now it has an xid
        await asyncio.sleep(0.3)
        lag = value(await scrape(ops), "caseledger_feed_lag_seconds")
    assert lag >= 0.25


async def test_request_id_is_echoed_or_generated_on_every_answer(ops: Api) -> None:
    given = "req-1.A_b"
    ok = await ops.client.get("/healthz", headers={"X-Request-ID": given})
    assert ok.headers["x-request-id"] == given
    generated = (await ops.client.get("/healthz")).headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    for bad in ("has space", "x" * 129, "semi;colon"):
        echoed = (await ops.client.get("/healthz", headers={"X-Request-ID": bad})).headers
        assert re.fullmatch(r"[0-9a-f]{32}", echoed["x-request-id"]), bad
    missing = await ops.client.get("/no/such/route", headers={"X-Request-ID": given})
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.headers["x-request-id"] == given
    no_case = await ops.client.get(
        "/cases/case-nobody/events", headers={**ops.headers("auditor"), "X-Request-ID": "r404"}
    )
    assert no_case.status_code == 404 and no_case.headers["x-request-id"] == "r404"
    unauthorized = await ops.client.get("/metrics", headers={"X-Request-ID": "r401"})
    assert unauthorized.status_code == 401 and unauthorized.headers["x-request-id"] == "r401"


async def test_body_limit_answers_carry_the_request_id(ops: Api) -> None:
    too_big = await ops.client.post(
        "/cases/c1/events",
        content=b"{" + b" " * (2 * 1024 * 1024) + b"}",
        headers={
            **ops.headers("case_system"),
            "X-Request-ID": "r413",
            "Content-Type": "application/json",
        },
    )
    assert too_big.status_code == 413 and too_big.headers["x-request-id"] == "r413"


async def test_an_append_is_logged_with_its_id_and_route_but_no_key_or_case_data(
    ops: Api, case_id: str, log_lines: io.StringIO
) -> None:
    employer = f"Quillfeather Secret Employer {uuid.uuid4().hex[:8]}"
    job = employment_started(job_id="job-77")
    job["data"]["employer"] = employer
    response = await ops.client.post(
        f"/cases/{case_id}/events",
        json={"events": [case_opened(), job]},
        headers={**ops.headers("case_system"), "X-Request-ID": "append-req-1"},
    )
    assert response.status_code == 201
    text = log_lines.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]
    request = next(r for r in lines if r.get("request_id") == "append-req-1")
    assert request["route"] == TEMPLATE and request["method"] == "POST"
    assert request["status"] == 201 and request["case_id"] == case_id
    assert request["duration_ms"] >= 0 and request["logger"] == "caseledger.access"
    assert {"time", "level", "message"} <= request.keys()
    for secret in (ops.keys["case_system"], "Bearer", employer, "Quillfeather", "35-2014", "15.50"):
        assert secret not in text


def test_exceptions_are_logged_by_type_and_stack_not_message() -> None:
    employer = "Quill" + "feather"
    try:
        raise ValueError(f"employer={employer}")
    except ValueError:
        record = logging.getLogger("caseledger.test").makeRecord(
            "caseledger.test", logging.ERROR, __file__, 1, "boom", (), exc_info=sys.exc_info()
        )
    line = json.loads(JsonFormatter().format(record))
    assert line["error_type"] == "ValueError" and employer not in json.dumps(line)


def test_configure_logging_is_idempotent_and_turns_access_logs_off() -> None:
    configure_logging("INFO")
    configure_logging("INFO")
    root = logging.getLogger()
    assert sum(type(h).__name__ == "JsonStderrHandler" for h in root.handlers) == 1
    assert logging.getLogger("uvicorn.access").disabled
    assert logging.getLogger("uvicorn").propagate and not logging.getLogger("uvicorn").handlers


async def test_an_unexpected_error_is_a_500_problem_with_the_request_id(
    log_lines: io.StringIO,
) -> None:
    from app.settings import Settings
    from app.web.app import create_app

    app = create_app(Settings(database_url="postgresql://unused/none"))

    employer = "Quill" + "feather"

    async def boom() -> None:
        raise RuntimeError(f"employer={employer}")

    app.add_api_route("/boom/{case_id}", boom)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/boom/c-9", headers={"X-Request-ID": "r500"})
    assert response.status_code == 500 and response.headers["x-request-id"] == "r500"
    assert response.headers["content-type"] == "application/problem+json"
    lines = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    logged = next(r for r in lines if r.get("request_id") == "r500" and "route" in r)
    assert logged == {
        **logged,
        "route": "/boom/{case_id}",
        "status": 500,
        "level": "ERROR",
        "code": "internal_error",
        "case_id": "c-9",
    }
    unexpected = next(r for r in lines if r["logger"] == "caseledger.problems")
    assert unexpected["request_id"] == "r500" and unexpected["error_type"] == "RuntimeError"
    assert employer not in log_lines.getvalue()


async def test_a_request_cancelled_before_its_answer_is_logged_as_499(
    log_lines: io.StringIO,
) -> None:
    from app.observability.metrics import Metrics
    from app.web.middleware import RequestObservability

    async def slow(scope: object, receive: object, send: object) -> None:
        await asyncio.sleep(10)

    middleware = RequestObservability(slow, Metrics())
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/slow",
        "headers": [(b"x-request-id", b"gone-1")],
    }
    task = asyncio.create_task(middleware(scope, None, None))  # type: ignore[arg-type]
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    logged = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    expected = {"request_id": "gone-1", "status": 499, "route": "unmatched"}
    assert expected.items() <= logged[-1].items()
