"""The access record stored a batch to a row (migration 0012): the same records, pages and
chain as a row per record, and the database refuses a batch that would fork the chain."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
import orjson
import pytest

from alembic import command
from app.domain.access_records import GENESIS, AccessRecord, RecordBatch, access_hash
from app.ops.verify_access_log import verify_access_log
from app.store import access_log as store
from app.store.db import connect
from app.store.migrations import alembic_config, upgrade_to_head
from tests.conftest import Databases

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
APPEND = "SELECT caseledger_record_access_batch($1, $2, $3, $4, $5, ARRAY['case-x'], ARRAY['k-x'], $6)"


def record(n: int, *, case: str, key: str, status: int = 200) -> AccessRecord:
    return AccessRecord(
        T0 + timedelta(minutes=n), key, "auditor", None, "10.0.0.9", (case,), "GET /x", f"r{n}", status
    )


# Three batches whose records interleave two cases and two keys.
BATCHES = [
    [record(0, case="case-a", key="k1"), record(1, case="case-b", key="k2")],
    [record(2, case="case-b", key="k1"), record(3, case="case-a", key="k1", status=403)],
    [
        record(4, case="case-a", key="k2"),
        record(5, case="case-c", key="k2"),
        record(6, case="case-a", key="k1"),
    ],
]


async def pages(conn: asyncpg.Connection, limit: int, **filters: object) -> list[str]:
    """Every page of a filtered listing, followed cursor by cursor: the records' request ids."""
    found: list[str] = []
    after = 0
    while True:
        args = {"case_id": None, "actor": None, "since": None, "until": None} | filters
        rows = await store.page(conn, after=after, limit=limit, **args)  # type: ignore[arg-type]
        found += [row["request_id"] for row in rows]
        if len(rows) < limit:
            return found
        after = rows[-1]["position"]


async def test_pages_find_records_across_batches_by_case_actor_and_time(databases: Databases) -> None:
    conn = await connect(await databases.create())
    try:
        for batch in BATCHES:
            await store.append_records(conn, batch)
        everything = [r for batch in BATCHES for r in batch]
        for limit in (1, 2, 100):
            assert await pages(conn, limit) == [r.request_id for r in everything]
            assert await pages(conn, limit, case_id="case-a") == ["r0", "r3", "r4", "r6"]
            assert await pages(conn, limit, actor="k2") == ["r1", "r4", "r5"]
            assert await pages(conn, limit, since=T0 + timedelta(minutes=3)) == ["r3", "r4", "r5", "r6"]
            assert await pages(conn, limit, until=T0 + timedelta(minutes=2)) == ["r0", "r1"]
            assert await pages(conn, limit, case_id="case-a", actor="k1") == ["r0", "r3", "r6"]
        positions = [row["position"] for row in await conn.fetch("SELECT position FROM access_log")]
        assert sorted(positions) == list(range(1, len(everything) + 1))
    finally:
        await conn.close()


async def test_a_batch_that_does_not_continue_the_head_or_miscounts_is_refused(
    databases: Databases,
) -> None:
    conn = await connect(await databases.create())
    try:
        await store.append_records(conn, BATCHES[0])
        head = await conn.fetchval("SELECT hash FROM access_log_batches")
        one = '[{"at": "2026-12-07T10:00:00Z", "case_ids": ["case-x"], "endpoint": "GET /x", "status": 200}]'
        with pytest.raises(asyncpg.SerializationError):  # a fork: it continues the genesis again
            await conn.fetchval(APPEND, GENESIS, "h-fork", 1, T0, T0, one)
        with pytest.raises(asyncpg.InvalidParameterValueError):  # says 2, holds 1
            await conn.fetchval(APPEND, head, "h-two", 2, T0, T0, one)
        assert await conn.fetchval(APPEND, head, "h-next", 1, T0, T0, one) == len(BATCHES[0]) + 1
        assert await conn.fetchval("SELECT count(*) FROM access_log") == len(BATCHES[0]) + 1
    finally:
        await conn.close()


def legacy_rows(records: list[AccessRecord]) -> str:
    """0008's argument: the rows of a row-per-record access log, chained from the genesis."""
    rows, previous = [], GENESIS
    for r in records:
        current = access_hash(previous, r)
        rows.append(orjson.loads(r.canonical()) | {"previous_hash": previous, "hash": current})
        previous = current
    return orjson.dumps(rows).decode()


async def listing(conn: asyncpg.Connection) -> list[tuple[object, ...]]:
    return [tuple(row) for row in await conn.fetch("SELECT * FROM access_log ORDER BY position")]


async def test_0012_keeps_every_record_at_its_position_going_up_and_down(databases: Databases) -> None:
    url = await databases.create()
    await asyncio.to_thread(command.downgrade, alembic_config(url), "0011")
    conn = await connect(url)
    try:
        await conn.fetchval("SELECT caseledger_record_access($1::jsonb)", legacy_rows(BATCHES[0]))
        before = await listing(conn)
        await upgrade_to_head(url)
        assert await listing(conn) == before  # each old record is a batch of one, same position
        await store.append_records(conn, BATCHES[1])  # the chain goes on from the old records
        after = await listing(conn)
        assert [row[0] for row in after] == [1, 2, 3, 4]
        previous = GENESIS
        for row in after:
            assert row[-2] == previous
            previous = row[-1]
        await asyncio.to_thread(command.downgrade, alembic_config(url), "0011")
        assert await listing(conn) == after  # back to a row per record, nothing lost
        await upgrade_to_head(url)
        assert await listing(conn) == after
        assert await store.append_records(conn, BATCHES[2]) == 3
        assert (await verify_access_log(conn)).problems == []  # old records' times as 0012 wrote them
    finally:
        await conn.close()


def test_an_empty_batch_cannot_be_chained() -> None:
    with pytest.raises(ValueError, match="at least one record"):
        RecordBatch().chained(GENESIS)


TAMPERINGS = {  # as the tables' owner could, the triggers switched off: what verify must name
    "a record's status changed": (
        "UPDATE access_log_batches SET records = replace(records, '\"status\":403', '\"status\":200')",
        "record 4: its hash does not match its content",
    ),
    "a case left out of a batch's index": (
        "UPDATE access_log_batches SET case_ids = array_remove(case_ids, 'case-a') WHERE first_position = 3",
        "batch 3-4: its case ids are not its records'",
    ),
    "a batch removed": (
        "DELETE FROM access_log_batches WHERE first_position = 3",
        "batch 5-7: does not continue the chain",
    ),
}


def verify_command(url: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    """`caseledger access-log --verify` as a shell runs it: (exit code, what it printed)."""
    import typer
    from typer.testing import CliRunner

    from app.cli import access_log as command
    from app.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    cli = typer.Typer()
    command.register(cli)
    cli.command("noop")(lambda: None)  # a group, as in app.cli.main
    try:
        result = CliRunner().invoke(cli, ["access-log", "--verify"])
    finally:
        get_settings.cache_clear()
    return result.exit_code, result.output


async def _written(databases: Databases, tampering: str | None) -> str:
    url = await databases.create()
    conn = await connect(url)
    try:
        for batch in BATCHES:
            await store.append_records(conn, batch)
        if tampering is not None:
            await conn.execute("ALTER TABLE access_log_batches DISABLE TRIGGER USER")
            await conn.execute(tampering)
    finally:
        await conn.close()
    return url


@pytest.mark.parametrize("tampering", sorted(TAMPERINGS))
def test_verify_names_each_tampering(databases: Databases, monkeypatch, tampering: str) -> None:
    statement, problem = TAMPERINGS[tampering]
    code, output = verify_command(asyncio.run(_written(databases, statement)), monkeypatch)
    assert code == 1 and problem in output, output


def test_verify_passes_an_untouched_chain(databases: Databases, monkeypatch) -> None:
    code, output = verify_command(asyncio.run(_written(databases, None)), monkeypatch)
    assert code == 0 and "access record chain: ok (7 records in 3 batches" in output, output
