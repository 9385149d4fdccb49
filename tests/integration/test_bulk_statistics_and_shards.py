"""Import and rebuild leave the planner statistics current, and a rebuild in several
processes (`caseledger rebuild --workers N`) writes and reports what one process does."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from app.domain.policy import DEFAULT_POLICY
from app.ops.analyze import ANALYZED
from app.ops.bulk_import import import_file
from app.ops.policy_pack import pack_policy, unpack_policy
from app.ops.rebuild import rebuild
from app.ops.sample import write_export
from app.ops.workers import import_in_workers
from app.store.bulk import range_condition, shard_bounds
from app.store.db import create_pool
from app.store.pool import Pool

# reltuples is -1 until a table is first analyzed (or vacuumed); ANALYZE of a small table
# reads every row, so afterwards it is the exact count.
_STATISTICS = """
SELECT c.relname, c.reltuples::bigint AS estimated, s.last_analyze IS NOT NULL AS analyzed
FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid
WHERE c.relname = ANY($1::text[])
"""


async def _statistics(pool: Pool) -> dict[str, tuple[int, int, bool]]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(_STATISTICS, list(ANALYZED))
        return {
            r["relname"]: (
                r["estimated"],
                int(await conn.fetchval(f"SELECT count(*) FROM {r['relname']}")),
                r["analyzed"],
            )
            for r in rows
        }


def _assert_current(statistics: dict[str, tuple[int, int, bool]]) -> None:
    assert set(statistics) == set(ANALYZED)
    for table, (estimated, actual, analyzed) in statistics.items():
        assert analyzed, f"{table} was not analyzed"
        assert estimated == actual, f"{table}: the planner thinks {estimated} rows, there are {actual}"


async def test_an_import_leaves_the_planner_statistics_of_every_table_current(
    fresh: tuple[str, Pool], tmp_path: Path
) -> None:
    _, pool = fresh
    before = await _statistics(pool)
    assert not any(analyzed for _, _, analyzed in before.values())
    write_export(tmp_path / "four.ndjson", 4)
    summary = await import_file(pool, tmp_path / "four.ndjson", policy=DEFAULT_POLICY)
    assert summary.appended > 0
    _assert_current(await _statistics(pool))


def test_an_import_in_two_processes_analyzes_once_at_the_end(fresh: tuple[str, Pool], tmp_path: Path) -> None:
    url, _ = fresh
    write_export(tmp_path / "six.ndjson", 6)
    summary = import_in_workers(
        url,
        tmp_path / "six.ndjson",
        workers=2,
        batch_size=5,
        rejects_path=tmp_path / "six.rejects.ndjson",
        policy=DEFAULT_POLICY,
    )
    assert summary.rejected == 0 and summary.appended == summary.read > 0

    async def check() -> None:
        checking = await create_pool(url, min_size=1, max_size=1)
        try:
            _assert_current(await _statistics(checking))
        finally:
            await checking.close()

    asyncio.run(check())


async def test_a_rebuild_in_two_processes_repairs_and_reports_as_one_does(
    fresh: tuple[str, Pool], tmp_path: Path
) -> None:
    url, pool = fresh
    write_export(tmp_path / "five.ndjson", 5)
    await import_file(pool, tmp_path / "five.ndjson", policy=DEFAULT_POLICY)
    healthy = await rebuild(pool, DEFAULT_POLICY, workers=2, url=url)
    assert healthy.equal and (healthy.cases, healthy.events, healthy.differed) == (5, 70, 0)
    assert len(healthy.worker_peak_rss_kb) == 1  # one spawned process, the first range here
    async with pool.acquire() as conn:
        bounds = await shard_bounds(conn, 2)
    assert len(bounds) == 2 and bounds[0][0] is None and bounds[-1][1] is None
    assert bounds[0][1] is not None and "QE2-00000000" < bounds[0][1] <= "QE2-00000004"

    async with pool.acquire() as conn:
        await conn.execute("UPDATE ledger_pba SET paid = 0 WHERE case_id = 'QE2-00000004'")
        await conn.execute(
            "UPDATE case_state SET state = jsonb_set(state, '{clock,outcome}', 'null')"
            " WHERE case_id = 'QE2-00000000'"
        )
        await conn.execute("INSERT INTO closure_clock (case_id, phase) VALUES ('no-events', 'running')")
        await conn.execute("ANALYZE")  # counts the orphan row: only another ANALYZE forgets it
    drifted = await rebuild(pool, DEFAULT_POLICY, workers=2, url=url)
    assert not drifted.equal and drifted.differed == 2
    assert drifted.differed_by_model == {"case_state": 1, "closure_clock": 0, "ledger_pba": 1}
    assert drifted.examples == ["QE2-00000000", "QE2-00000004", "no-events"]
    assert (drifted.cases, drifted.events, drifted.removed_without_events) == (5, 70, 1)
    _assert_current(await _statistics(pool))
    assert (await rebuild(pool, DEFAULT_POLICY, workers=3, url=url)).equal


async def test_shard_ranges_cover_every_case_once(fresh: tuple[str, Pool], tmp_path: Path) -> None:
    _, pool = fresh
    write_export(tmp_path / "seven.ndjson", 7)
    await import_file(pool, tmp_path / "seven.ndjson", policy=DEFAULT_POLICY)
    async with pool.acquire() as conn:
        every = [r["case_id"] for r in await conn.fetch("SELECT DISTINCT case_id FROM events ORDER BY 1")]
        for parts in (1, 2, 3, 7, 20):
            covered: list[str] = []
            bounds = await shard_bounds(conn, parts)
            assert 1 <= len(bounds) <= min(parts, len(every))
            for bound in bounds:
                where, args = range_condition(bound)
                sql = f"SELECT DISTINCT case_id FROM events{where} ORDER BY 1"
                covered += [r["case_id"] for r in await conn.fetch(sql, *args)]
            assert covered == every
        await conn.execute("DELETE FROM case_state")  # a restored log: weights come from events
        assert len(await shard_bounds(conn, 2)) == 2


def test_the_policy_table_crosses_to_a_spawned_process_unchanged() -> None:
    import pickle

    packed = pickle.loads(pickle.dumps(pack_policy(DEFAULT_POLICY)))
    assert unpack_policy(packed) == DEFAULT_POLICY


async def test_a_batch_decided_behind_one_that_lost_a_race_is_decided_again(
    fresh: tuple[str, Pool], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batch 2 is decided while batch 1 is written, against batch 1's outcome; an API append
    makes batch 1's write fail and batch 1 is decided again, so batch 2 must be too."""
    from app.ops.import_batch import decide_batch
    from app.ops.sample import case_events
    from app.ops.verify import verify_all
    from app.service.append import AppendHandler
    from app.service.keys import Principal
    from app.service.validate import Proposed
    from app.store.streams import read_stream
    from tests.builders import import_line

    _, pool = fresh
    events = case_events(8)
    (tmp_path / "opened.ndjson").write_bytes(import_line("ahead-1", events[0]) + b"\n")
    await import_file(pool, tmp_path / "opened.ndjson", policy=DEFAULT_POLICY)
    rest = tmp_path / "rest.ndjson"
    rest.write_bytes(b"\n".join(import_line("ahead-1", e) for e in events[1:4]) + b"\n")
    handler, calls = AppendHandler(pool, DEFAULT_POLICY), []

    async def decide_then_lose_the_race(*args: Any, **kwargs: Any) -> Any:
        calls.append((args[1][0].number, len(args) > 4 and args[4] is not None))
        decided = await decide_batch(*args, **kwargs)
        if len(calls) == 1:  # an API client appends between batch 1's decision and its write
            amendment = Proposed(
                "IPEAmended", {"amended_on": "2024-01-11", "service_categories_added": ["benefits"]}
            )
            await handler.append(Principal("k1", "case_system"), "ahead-1", None, [amendment])
        return decided

    monkeypatch.setattr("app.ops.import_writer.decide_batch", decide_then_lose_the_race)
    summary = await import_file(pool, rest, batch_size=1, policy=DEFAULT_POLICY)
    assert (summary.appended, summary.rejected) == (3, 0)
    # (first line, decided ahead?): batch 2 ahead of batch 1's write; batch 1 loses the race
    # and is decided again, then batch 2 again (not ahead), then batch 3 ahead of batch 2's.
    assert calls[:5] == [(1, False), (2, True), (1, False), (2, False), (3, True)]
    async with pool.acquire() as conn:
        stream = await read_stream(conn, "ahead-1")
    assert [e.type for e in stream] == [
        "CaseOpened",
        "IPEAmended",
        "PBAOpened",
        "AuthorizationIssued",
        "PBAMilestoneReached",
    ]
    assert (await verify_all(pool)).ok and (await rebuild(pool, DEFAULT_POLICY)).equal
