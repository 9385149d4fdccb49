"""A retention run end to end (issue 13, item 3): exactly the due cases destroyed, the held,
recent and open ones spared; afterwards the clock, the ledger, `verify` and the checkpoints
answer as before, every personal value reads "[destroyed]" everywhere a client looks, and
no table holds the plaintext or the case's wrapped data key."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from typer.testing import CliRunner

from app.cli.main import build_cli
from app.domain.policy import DEFAULT_POLICY
from app.domain.sealing import DESTROYED
from app.ops.checkpoint import checkpoint_once, signer_from_key_file
from app.ops.verify_bundle import check_bundle
from app.service import policy as policies
from app.service.keys import create_key
from app.settings import Settings, get_settings
from app.store.pool import Pool
from app.store.privileges import app_role_url
from app.web.routes import trust
from tests.builders import pba_ended
from tests.conftest import Api
from tests.integration.retention_cases import (
    Case,
    ended_and_closed,
    hold,
    lift,
    ok,
    pba_closed,
    secret,
    still_open,
    today,
    without_personal_values,
)
from tests.integration.test_checkpoints import settled
from tests.integration.test_sealing_store import tables_holding

ROW = {
    "effective_from": "2000-01-01",
    "closure_wait_days": 90,
    "milestone_rates": {
        "placement_plan_signed": "1000.00",
        "job_hire": "1300.00",
        "successful_placement": "1500.00",
    },
    "pba_cap_per_consumer": "3800.00",
    "retention_years": 2,
}


@pytest.fixture
async def rapi(fresh: tuple[str, Pool]) -> AsyncIterator[Api]:
    """The service on a database of its own (a run walks every case), as the app role, with
    the trust routes and a key per role."""
    from app.web.app import create_app

    url, pool = fresh
    app_url = app_role_url(url)
    app = create_app(Settings(database_url=app_url), database_url=app_url)
    if not any(getattr(r, "path", "") == "/checkpoints/latest" for r in app.routes):
        app.include_router(trust.router)
    async with pool.acquire() as conn:
        keys = {role: (await create_key(conn, role=role))[1] for role in ("case_system", "auditor", "admin")}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            api = Api(client, keys)  # type: ignore[arg-type]
            api.case_keys = app.state.ctx.case_keys  # type: ignore[attr-defined]
            yield api


def cli(url: str, monkeypatch: pytest.MonkeyPatch, *args: str) -> Any:
    """`caseledger ARGS` on the test's database, the run as the app role (in a thread: the
    command runs its own event loop)."""
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("CASELEDGER_APP_DATABASE_URL", app_role_url(url))
    get_settings.cache_clear()
    return asyncio.to_thread(CliRunner().invoke, build_cli(), list(args))


def said(output: str, verb: str) -> set[str]:
    return {line.split()[-4].rstrip(":") for line in output.splitlines() if line.startswith(verb + " ")}


async def answers(api: Api, case_id: str) -> tuple[Any, Any]:
    """The closure clock and the ledger, without the case's version (the destruction adds one)."""
    clock = (await api.get(f"/cases/{case_id}/closure-clock", params={"as_of": "2026-01-01"})).json()
    ledger = (await api.get(f"/cases/{case_id}/ledger")).json()
    return [{k: v for k, v in x.items() if k != "version"} for x in (clock, ledger)]  # type: ignore[return-value]


async def wrapped_key(pool: Pool, case_id: str) -> bytes | None:
    async with pool.acquire() as conn:
        return await conn.fetchval("SELECT wrapped FROM case_data_keys WHERE case_id = $1", case_id)


async def sign(pool: Pool, tmp_path: Path) -> None:
    """A checkpoint of the recorded policy table (its adopted retention version a leaf too)."""
    await settled(pool)
    table = await policies.recorded_table(pool, DEFAULT_POLICY, "default")
    signer = signer_from_key_file(
        tmp_path / "signing.key", tmp_path / "checkpoints", "caseledger.test/retention"
    )
    await checkpoint_once(pool, table, "default", signer)


def personal_values(events: list[dict[str, Any]]) -> list[Any]:
    """Every value of a personal field or a note in the events (as a client reads them)."""
    fields = ("employer", "career_pathway", "reason")
    found = [
        e["data"][f] for e in events for f in fields if f in e["data"] and e["type"] != "CaseRecordsDestroyed"
    ]
    return found + [e["metadata"]["note"] for e in events if "note" in e["metadata"]]


async def test_a_run_destroys_exactly_the_due_cases_and_leaves_the_records_that_must_stay(
    rapi: Api, fresh: tuple[str, Pool], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, pool = fresh
    adopted = await rapi.post("/policy/versions", ROW, role="admin")
    assert adopted.status_code == 201 and adopted.json()["retention_years"] == 2, adopted.text
    old, bare = await pba_closed(rapi, "old"), await without_personal_values(rapi)
    held = await ended_and_closed(rapi, "held", opened=date(2024, 1, 2), closed=date(2024, 4, 1))
    lifted = await ended_and_closed(rapi, "lifted", opened=date(2024, 1, 2), closed=date(2024, 4, 1))
    day = today()
    recent = await ended_and_closed(
        rapi, "recent", opened=day - timedelta(days=200), closed=day - timedelta(days=60)
    )
    open_ = await still_open(rapi)
    await place(rapi, held, hold, "2024-05-01", "State v. Rivera")
    await place(rapi, lifted, hold, "2024-05-01", "audit of the Rivera file")
    await place(rapi, lifted, lift, "2025-01-01", "audit closed")
    destroyed, spared = [old, lifted, bare], [held, recent, open_]
    before = {c.case_id: await answers(rapi, c.case_id) for c in destroyed}
    keys = {c.case_id: await wrapped_key(pool, c.case_id) for c in (old, lifted)}
    assert (
        await rapi.get(f"/cases/{old.case_id}/events")
    ).status_code == 200  # the service holds the key now
    await sign(pool, tmp_path)

    dry = await cli(url, monkeypatch, "retention", "run", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert said(dry.output, "would destroy") == {c.case_id for c in destroyed}, dry.output
    assert f"held {held.case_id}" in dry.output
    for case in (old, lifted):
        assert await wrapped_key(pool, case.case_id) == keys[case.case_id]
    assert await _destruction_events(pool) == 0  # a dry run changes nothing

    run = await cli(url, monkeypatch, "retention", "run")
    assert run.exit_code == 0, run.output
    assert said(run.output, "destroyed") == {c.case_id for c in destroyed}, run.output
    again = await cli(url, monkeypatch, "retention", "run")
    assert again.exit_code == 0 and "0 destroyed, 0 completed" in again.output, again.output
    assert await _destruction_events(pool) == 3  # idempotent: the second run did nothing
    await sign(pool, tmp_path)
    # The running service confirms a remembered key after `ttl_s` (docs/privacy.md): later.
    later = rapi.case_keys  # type: ignore[attr-defined]
    later.clock = lambda: time.monotonic() + later.ttl_s + 1

    for case in destroyed:
        assert await answers(rapi, case.case_id) == before[case.case_id]  # dates, amounts, statuses
        await _reads_destroyed(rapi, case)
        assert (await rapi.get(f"/cases/{case.case_id}/verify", role="auditor")).json()["ok"] is True
    for case in spared:
        events = (await rapi.get(f"/cases/{case.case_id}/events")).json()["events"]
        assert set(case.personal) <= set(personal_values(events)), case.case_id
    await _export_is_destroyed_and_verifies(rapi, old, tmp_path)
    async with pool.acquire() as conn:
        for case in destroyed:
            for value in case.personal:
                assert await tables_holding(conn, value) == [], value
        for wrapped in keys.values():
            assert wrapped is not None
            for form in (wrapped.hex(), base64.b64encode(wrapped).decode()):
                assert await tables_holding(conn, form) == []
    verified = await cli(
        url,
        monkeypatch,
        "verify",
        "--checkpoints",
        str(tmp_path / "checkpoints"),
        "--public-key",
        str(tmp_path / "signing.key.pub"),
    )
    assert verified.exit_code == 0, verified.output
    get_settings.cache_clear()

    # the destroyed case takes no personal value any more, and still takes fiscal records
    refused = await rapi.append(old.case_id, hold("2026-01-05", "new claim"), role="auditor")
    assert (refused.status_code, refused.json().get("rule")) == (409, "case_records_destroyed"), refused.text
    await ok(rapi, old.case_id, pba_ended("pba-1", "2024-07-01", reason="completed"))


async def place(api: Api, case: Case, event: Any, on: str, label: str) -> None:
    """An auditor's hold or lift; its reason is personal too."""
    reason = secret(label)
    case.personal.append(reason)
    await ok(api, case.case_id, event(on, reason), role="auditor")


async def _destruction_events(pool: Pool) -> int:
    async with pool.acquire() as conn:
        return await conn.fetchval("SELECT count(*) FROM events WHERE type = 'CaseRecordsDestroyed'")


async def _reads_destroyed(api: Api, case: Case) -> None:
    """Events, feed, history and the UI page: each personal value reads "[destroyed]"."""
    events = (await api.get(f"/cases/{case.case_id}/events")).json()["events"]
    last = events[-1]
    assert last["type"] == "CaseRecordsDestroyed" and last["data"] == {
        "destroyed_on": today().isoformat(),
        "rule": "retention_after_closure",
        "period_years": 2,
    }
    assert last["metadata"]["actor"] == "system:retention-run"
    values = personal_values(events)
    assert len(values) == len(case.personal) and set(values) <= {DESTROYED}, events
    feed = (await api.get("/events", role="auditor", params={"after": 0, "limit": 1000})).json()["events"]
    assert set(personal_values([e for e in feed if e["case_id"] == case.case_id])) <= {DESTROYED}
    history = (await api.get(f"/cases/{case.case_id}/history", role="auditor")).json()["events"]
    assert set(personal_values(history)) <= {DESTROYED} and len(personal_values(history)) == len(
        case.personal
    )
    page = await api.client.get(f"/ui/cases/{case.case_id}", headers=api.headers("auditor"))
    assert page.status_code == 200
    assert (DESTROYED in page.text) == bool(case.personal)
    assert not any(value in page.text for value in case.personal)


async def _export_is_destroyed_and_verifies(api: Api, case: Case, tmp_path: Path) -> None:
    exported = await api.get(f"/cases/{case.case_id}/export", role="auditor")
    assert exported.status_code == 200, exported.text
    result = check_bundle(exported.content, tmp_path / "signing.key.pub", today())
    assert result.ok, result.findings
    assert not any(value.encode() in exported.content for value in case.personal)
    events = orjson.loads(exported.content)["events"]
    opened = [e["opened"] for e in events if "opened" in e]
    assert opened and set(personal_values(opened_events(events))) <= {DESTROYED}


def opened_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"type": e["type"], **e.get("opened", {"data": {}, "metadata": {}})} for e in events]
