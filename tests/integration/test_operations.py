"""`caseledger import | rebuild | verify` on real PostgreSQL, each test on its own database."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import pytest
from typer.testing import CliRunner

from app.domain import batch as batch_loop
from app.domain.policy import DEFAULT_POLICY
from app.ops import import_batch as operations_batch
from app.ops import rebuild as rebuild_module
from app.ops.bulk_import import import_file
from app.ops.import_batch import decide_batch
from app.ops.rebuild import rebuild
from app.ops.sample import case_events, write_export
from app.ops.verify import BrokenCase, verify_all
from app.service.append import AppendHandler
from app.service.case_keys import CaseKeys
from app.service.keys import Principal
from app.service.master_key_file import master_key_of
from app.service.reads import case_state
from app.service.validate import Proposed
from app.settings import Settings
from app.store.db import connect, create_pool
from app.store.pool import Pool
from app.store.streams import EVENT_COLUMNS, StoredEvent, read_stream
from tests.builders import import_line
from tests.conftest import make_api


def _export_with_problems() -> tuple[list[bytes], dict[int, str]]:
    """Four cases, interleaved so each spans several batches; and the lines to be refused."""
    a = [import_line("imp-A", e) for e in case_events(1)]
    b_events = case_events(2)
    two_signatures = {
        "type": "PBAMilestoneReached",
        "data": {**b_events[3]["data"], "signed_by": ["consumer", "provider"]},
    }
    b = [import_line("imp-B", e) for e in b_events[:3]] + [import_line("imp-B", two_signatures)]
    b += [import_line("imp-B", e) for e in b_events[3:]]
    paid_id = orjson.loads(b[9])["event_id"]  # the post-employment payment
    b.append(
        import_line(
            "imp-B",
            {
                "type": "EventRetracted",
                "data": {"retracted_event_id": paid_id, "reason": "entered on the wrong case"},
            },
        )
    )
    c = [
        import_line("imp-C", case_events(3)[0]),
        import_line(
            "imp-C",
            {
                "type": "EmploymentStarted",
                "data": {**case_events(3)[5]["data"], "start_date": "2024-13-01"},
            },
        ),
        b'{"case_id": "imp-C", "event_id": oops',
        import_line("imp-C", case_events(3)[5]),
    ]
    d = [
        import_line("imp-D", case_events(4)[5]),
        import_line("imp-D", case_events(4)[0]),
        import_line("imp-D", case_events(4)[5]),
    ]
    lines, expected = [], {}
    for i in range(max(map(len, (a, b, c, d)))):
        for stream in (a, b, c, d):
            if i < len(stream):
                lines.append(stream[i])
                if stream is c and i in (1, 2):
                    expected[len(lines)] = "invalid_event" if i == 1 else "invalid_json"
                elif stream is d and i == 0:
                    expected[len(lines)] = "case_not_found"
    return lines, expected


def _rejects(path: Path) -> dict[int, str]:
    return {r["line"]: r["code"] for r in map(orjson.loads, path.read_bytes().splitlines())}


_ROWS = {
    "closure_clock": "SELECT * FROM closure_clock ORDER BY case_id",
    "ledger_pba": "SELECT * FROM ledger_pba ORDER BY case_id, pba_id",
    "refused_claims": "SELECT case_id, claim_key, pba_id, provider_id, type, data, rule, detail"
    " FROM refused_claims ORDER BY case_id, claim_key",
}


async def _read_models(pool: Pool) -> dict[str, Any]:
    async with pool.acquire() as conn:
        rows = {"events": await _opened_events(conn)}
        rows |= {name: [dict(r) for r in await conn.fetch(sql)] for name, sql in _ROWS.items()}
        cases = [r["case_id"] for r in await conn.fetch("SELECT case_id FROM case_state ORDER BY 1")]
        rows["states"] = [await case_state(conn, c) for c in cases]
    return rows


async def _opened_events(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    """The events as a reader sees them: sealed values differ by nonce, opened ones do not."""
    rows = await conn.fetch(f"SELECT {EVENT_COLUMNS} FROM events ORDER BY case_id, version")
    events = await CaseKeys(master_key_of(Settings())).opened(conn, [StoredEvent.from_row(r) for r in rows])
    fields = ("case_id", "version", "event_id", "type", "schema_version", "data")
    return [{name: getattr(e, name) for name in fields} for e in events]


def _without_b(models: dict[str, Any]) -> dict[str, Any]:
    def keep(row: Any) -> bool:
        return not isinstance(row, dict) or row.get("case_id") != "imp-B"

    return {name: [r for r in rows if keep(r)] for name, rows in models.items() if name != "states"}


async def _over_http(api: Any, case_ids: list[str]) -> list[Any]:
    answers = []
    for case_id in case_ids:
        clock = (await api.get(f"/cases/{case_id}/closure-clock?as_of=2025-06-01")).json()
        ledger = (await api.get(f"/cases/{case_id}/ledger")).json()
        for claim in ledger.get("refused_claims", []):
            claim.pop("actor"), claim.pop("refused_at")
        answers.append((clock, ledger))
    return answers


async def test_import_gives_the_read_models_the_api_gives_and_a_rerun_appends_nothing(
    databases: Any, fresh: tuple[str, Pool], tmp_path: Path
) -> None:
    url, pool = fresh
    lines, expected_rejects = _export_with_problems()
    export = tmp_path / "qe2.ndjson"
    export.write_bytes(b"\n".join(lines) + b"\n")

    first = await import_file(
        pool, export, batch_size=4, policy=DEFAULT_POLICY, master_key=master_key_of(Settings())
    )
    assert _rejects(tmp_path / "qe2.ndjson.rejects.ndjson") == expected_rejects
    assert (first.read, first.appended, first.rejected) == (len(lines), len(lines) - 3, 3)

    api_url = await databases.create()
    api_pool = await create_pool(api_url, min_size=1, max_size=4)
    async for api in make_api(api_url, api_pool):
        for raw in lines:
            try:
                line = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue
            await api.append(line["case_id"], {k: line[k] for k in ("event_id", "type", "data", "metadata")})
        through_api = await _over_http(api, ["imp-A", "imp-B", "imp-C", "imp-D"])
    imported_models, api_models = (
        _without_b(await _read_models(pool)),
        _without_b(await _read_models(api_pool)),
    )
    await api_pool.close()
    # imp-B's two-signature plan the API refuses is imported as the fact it is (issue 15).
    assert imported_models == api_models
    assert len(imported_models["ledger_pba"]) == 1
    async for api in make_api(url, pool):
        imported = await _over_http(api, ["imp-A", "imp-B", "imp-C", "imp-D"])
    assert imported[0] == through_api[0] and imported[2:] == through_api[2:]
    assert [clock["status"] for clock, _ in imported] == ["closed", "closed", "eligible", "eligible"]
    assert through_api[1][1]["refused_claims"] and not imported[1][1]["refused_claims"]

    again = await import_file(
        pool, export, batch_size=4, policy=DEFAULT_POLICY, master_key=master_key_of(Settings())
    )
    # A line refused for want of an open case meets the case as it now stands: imp-D's early
    # job finds the job current, and is now kept with its finding.
    assert (again.appended, again.skipped, again.rejected) == (1, first.appended, 2)
    rejected_again = _rejects(tmp_path / "qe2.ndjson.rejects.ndjson")
    assert set(rejected_again.values()) == {"invalid_event", "invalid_json"}
    async with pool.acquire() as conn:
        actors = await conn.fetch("SELECT DISTINCT metadata->>'actor' AS a FROM events")
    assert [r["a"] for r in actors] == ["import:qe2.ndjson"]


async def test_a_known_event_id_with_other_content_is_an_idempotency_conflict(
    fresh: tuple[str, Pool], tmp_path: Path
) -> None:
    _, pool = fresh
    opened_id, reused = str(uuid.uuid4()), str(uuid.uuid4())
    first = tmp_path / "first.ndjson"
    first.write_bytes(import_line("idem-1", case_events(5)[0], opened_id) + b"\n")
    assert (await import_file(pool, first, policy=DEFAULT_POLICY)).appended == 1

    opened_elsewhere = {
        **case_events(5)[0],
        "data": {**case_events(5)[0]["data"], "opened_on": "2024-03-03"},
    }
    second = tmp_path / "second.ndjson"
    second.write_bytes(
        b"\n".join(
            [
                import_line("idem-1", opened_elsewhere, opened_id),  # stored id, other content
                import_line("idem-1", case_events(5)[0], opened_id),  # stored id, same content
                import_line("idem-2", case_events(6)[0], reused),  # new id ...
                import_line("idem-3", case_events(7)[0], reused),  # ... used again for another case
            ]
        )
    )
    rejects = tmp_path / "second.rejects"
    summary = await import_file(pool, second, rejects_path=rejects, policy=DEFAULT_POLICY)
    assert (summary.appended, summary.skipped, summary.rejected) == (1, 1, 2)
    refused = [orjson.loads(r) for r in rejects.read_bytes().splitlines()]
    assert [(r["line"], r["code"], r["event_id"]) for r in refused] == [
        (1, "idempotency_conflict", opened_id),
        (4, "idempotency_conflict", reused),
    ]


async def test_an_import_refuses_legal_holds_and_destructions_as_the_api_refuses_a_case_system(
    fresh: tuple[str, Pool], tmp_path: Path
) -> None:
    """Only `caseledger retention run` records a destruction and only admin or auditor keys
    place holds: an export line claiming either is refused, the rest of the case imported."""
    _, pool = fresh
    opened, closed = (
        case_events(12)[0],
        {"type": "CaseClosed", "data": {"closed_on": "2024-02-01", "outcome": "unsuccessful"}},
    )
    destroyed = {
        "type": "CaseRecordsDestroyed",
        "data": {"destroyed_on": "2030-01-01", "rule": "retention_after_closure", "period_years": 5},
    }
    hold = {"type": "LegalHoldPlaced", "data": {"placed_on": "2024-03-01", "reason": "appeal"}}
    export = tmp_path / "claims.ndjson"
    export.write_bytes(b"\n".join(import_line("gone-1", e) for e in (opened, closed, destroyed, hold)))
    rejects = tmp_path / "claims.rejects"

    summary = await import_file(pool, export, rejects_path=rejects, policy=DEFAULT_POLICY)

    assert (summary.appended, summary.rejected) == (2, 2)
    assert _rejects(rejects) == {3: "forbidden", 4: "forbidden"}
    async with pool.acquire() as conn:
        types = [
            r["type"]
            for r in await conn.fetch("SELECT type FROM events WHERE case_id = 'gone-1' ORDER BY version")
        ]
    assert types == ["CaseOpened", "CaseClosed"]


async def test_a_case_written_by_the_api_meanwhile_makes_the_batch_decide_again(
    fresh: tuple[str, Pool], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, pool = fresh
    opened, job = tmp_path / "opened.ndjson", tmp_path / "job.ndjson"
    opened.write_bytes(import_line("race-1", case_events(8)[0]))
    job.write_bytes(import_line("race-1", case_events(8)[5]))
    await import_file(pool, opened, policy=DEFAULT_POLICY)
    handler, calls = AppendHandler(pool, DEFAULT_POLICY), []

    async def decide_then_lose_the_race(*args: Any, **kwargs: Any) -> Any:
        decided = await decide_batch(*args, **kwargs)
        calls.append(decided)
        if len(calls) == 1:  # an API client appends between the decision and the write
            amendment = Proposed(
                "IPEAmended", {"amended_on": "2024-02-01", "service_categories_added": ["benefits"]}
            )
            await handler.append(Principal("k1", "case_system"), "race-1", None, [amendment])
        return decided

    monkeypatch.setattr("app.ops.import_writer.decide_batch", decide_then_lose_the_race)
    summary = await import_file(pool, job, policy=DEFAULT_POLICY)
    assert (len(calls), summary.appended, summary.rejected) == (2, 1, 0)
    async with pool.acquire() as conn:
        stream = await read_stream(conn, "race-1")
    assert [e.type for e in stream] == ["CaseOpened", "IPEAmended", "EmploymentStarted"]
    assert (await verify_all(pool)).ok and (await rebuild(pool, DEFAULT_POLICY)).equal


async def test_a_line_postgresql_cannot_store_or_the_rules_cannot_handle_costs_only_itself(
    fresh: tuple[str, Pool], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, pool = fresh
    started = case_events(9)[5]
    nul = {**started, "data": {**started["data"], "job_id": "job-x", "employer": "Acme\u0000"}}
    export = tmp_path / "rough.ndjson"
    export.write_bytes(
        b"\n".join(
            [
                import_line("rough-1", case_events(9)[0]),
                import_line("rough-1", nul),  # the rules accept it; PostgreSQL could not store it
                import_line("rough-1", case_events(9)[1]),  # PBAOpened: the rules crash on it (below)
                import_line("rough-1", case_events(9)[5]),
                import_line("rough-2", case_events(10)[0]),  # its read models cannot be computed (below)
                import_line("rough-3", case_events(11)[0]),
            ]
        )
    )
    real_decide, real_case_append = batch_loop.decide_case, operations_batch.case_append

    def crash_on_pba(state: Any, event: Any, policy: Any) -> Any:
        if event.TYPE == "PBAOpened":
            raise OverflowError("date value out of range")
        return real_decide(state, event, policy)

    def crash_on_rough_2(case: Any, *args: Any) -> Any:
        if case.case_id == "rough-2":
            raise OverflowError("date value out of range")
        return real_case_append(case, *args)

    monkeypatch.setattr(batch_loop, "decide_case", crash_on_pba)
    monkeypatch.setattr(operations_batch, "case_append", crash_on_rough_2)
    summary = await import_file(pool, export, policy=DEFAULT_POLICY)
    assert _rejects(tmp_path / "rough.ndjson.rejects.ndjson") == {
        2: "invalid_event",
        3: "server_error",
        5: "server_error",
    }
    assert (summary.appended, summary.rejected) == (3, 3)
    async with pool.acquire() as conn:
        cases = await conn.fetch("SELECT case_id, count(*) FROM events GROUP BY 1 ORDER BY 1")
    assert [tuple(r) for r in cases] == [("rough-1", 2), ("rough-3", 1)]


_RESTORED = (
    "SELECT k.eligible_on, l.paid, s.state FROM closure_clock k"
    " JOIN ledger_pba l USING (case_id) JOIN case_state s USING (case_id) WHERE case_id = $1"
)


async def test_rebuild_reports_and_repairs_rows_changed_behind_the_services_back(
    fresh: tuple[str, Pool], tmp_path: Path
) -> None:
    _, pool = fresh
    write_export(tmp_path / "five.ndjson", 5)
    await import_file(pool, tmp_path / "five.ndjson", policy=DEFAULT_POLICY)
    healthy = await rebuild(pool, DEFAULT_POLICY)
    assert healthy.equal and (healthy.cases, healthy.events, healthy.differed) == (5, 70, 0)

    async with pool.acquire() as conn:
        good = {c: await conn.fetchrow(_RESTORED, c) for c in ("QE2-00000001", "QE2-00000003")}
        await conn.execute(
            "UPDATE closure_clock SET eligible_on = '2031-01-01' WHERE case_id = 'QE2-00000003'"
        )
        await conn.execute("UPDATE ledger_pba SET paid = 0 WHERE case_id = 'QE2-00000003'")
        await conn.execute(
            "UPDATE case_state SET state = jsonb_set(state, '{clock,outcome}', 'null')"
            " WHERE case_id = 'QE2-00000001'"
        )
        await conn.execute("INSERT INTO closure_clock (case_id, phase) VALUES ('no-events', 'running')")
    drifted = await rebuild(pool, DEFAULT_POLICY)
    assert not drifted.equal and drifted.differed == 2
    assert drifted.differed_by_model == {"case_state": 1, "closure_clock": 1, "ledger_pba": 1}
    assert drifted.removed_without_events == 1
    assert drifted.examples == ["QE2-00000001", "QE2-00000003", "no-events"]
    async with pool.acquire() as conn:
        assert {c: await conn.fetchrow(_RESTORED, c) for c in good} == good
        assert await conn.fetchval("SELECT count(*) FROM closure_clock") == 5
    assert (await rebuild(pool, DEFAULT_POLICY)).equal


async def test_rebuild_leaves_a_case_appended_to_meanwhile_with_its_writers_rows(
    fresh: tuple[str, Pool], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, pool = fresh
    write_export(tmp_path / "two.ndjson", 2)
    await import_file(pool, tmp_path / "two.ndjson", policy=DEFAULT_POLICY)
    handler, real_write_chunk = AppendHandler(pool, DEFAULT_POLICY), rebuild_module.write_chunk

    async def append_then_write(conn: Any, chunk: Any) -> Any:
        # The service pays the last milestone after the rebuild has read the case.
        data = {
            "authorization_id": "a-succ-0",
            "payment_date": "2024-07-01",
            "amount": "1500.00",
            "paid_in_full": True,
        }
        await handler.append(
            Principal("k1", "case_system"), "QE2-00000000", None, [Proposed("AuthorizationPaid", data)]
        )
        return await real_write_chunk(conn, chunk)

    monkeypatch.setattr(rebuild_module, "write_chunk", append_then_write)
    report = await rebuild(pool, DEFAULT_POLICY)
    assert (report.cases, report.changed_during_rebuild, report.equal) == (2, 1, True)
    async with pool.acquire() as conn:
        paid = await conn.fetchval("SELECT paid FROM ledger_pba WHERE case_id = 'QE2-00000000'")
    assert paid == Decimal("3800.00")  # the payment the rebuild did not see still counts
    monkeypatch.undo()
    assert (await rebuild(pool, DEFAULT_POLICY)).equal


async def _tamper(url: str, case_id: str, *, version: int) -> None:
    """As a superuser would, behind the service's back: the append-only trigger off for a moment."""
    conn = await connect(url)
    try:
        await conn.execute("ALTER TABLE events DISABLE TRIGGER events_append_only")
        await conn.execute(
            'UPDATE events SET data = data || \'{"amount": "9999.00"}\' WHERE case_id = $1 AND version = $2',
            case_id,
            version,
        )
        await conn.execute("ALTER TABLE events ENABLE TRIGGER events_append_only")
    finally:
        await conn.close()


async def test_verify_names_the_case_and_version_of_an_event_changed_behind_the_services_back(
    fresh: tuple[str, Pool], tmp_path: Path
) -> None:
    url, pool = fresh
    write_export(tmp_path / "three.ndjson", 3)
    await import_file(pool, tmp_path / "three.ndjson", policy=DEFAULT_POLICY)
    assert (await verify_all(pool)).ok
    await _tamper(url, "QE2-00000001", version=3)
    report = await verify_all(pool)
    assert not report.ok and (report.cases, report.events) == (3, 42)
    assert [(b.case_id, b.version) for b in report.broken] == [("QE2-00000001", 3)]
    assert isinstance(report.broken[0], BrokenCase) and "hash" in report.broken[0].reason


def test_cli_imports_in_two_workers_and_verify_exits_1_on_a_broken_chain(
    fresh: tuple[str, Pool], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.cli.main import cli
    from app.settings import get_settings

    url, _ = fresh
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    export = tmp_path / "cli.ndjson"
    write_export(export, 2)
    export.write_bytes(export.read_bytes() + b"not json\n")
    runner = CliRunner()
    imported = runner.invoke(cli, ["import", str(export), "--batch-size", "5", "--workers", "2"])
    assert imported.exit_code == 1, imported.output
    assert _rejects(tmp_path / "cli.ndjson.rejects.ndjson") == {29: "invalid_json"}
    assert "appended 28, skipped as already present 0, rejected 1 (invalid_json 1)" in imported.output
    rebuilt = runner.invoke(cli, ["rebuild"])
    assert rebuilt.exit_code == 0 and "every read model equalled the log" in rebuilt.output
    assert runner.invoke(cli, ["verify"]).exit_code == 0
    asyncio.run(_tamper(url, "QE2-00000001", version=9))
    verified = runner.invoke(cli, ["verify"])
    assert verified.exit_code == 1
    assert "1 broken" in verified.output and "QE2-00000001 version 9:" in verified.output
    get_settings.cache_clear()
