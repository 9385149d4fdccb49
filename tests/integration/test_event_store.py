"""The store on real PostgreSQL: append-only, atomic, concurrent, gap-safe, hash-chained."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from uuid import uuid4

import asyncpg
import pytest

from app.domain.hashing import GENESIS, event_hash
from app.store import appends
from app.store import streams as store
from tests.builders import case_opened, employment_started


async def test_database_refuses_update_delete_and_truncate_of_events(api, owner_pool, case_id):
    """Even the owner, who may write the table, is refused by the append-only triggers."""
    assert (await api.append(case_id, case_opened())).status_code == 201
    async with owner_pool.acquire() as conn:
        for sql in (
            "UPDATE events SET type = 'X' WHERE case_id = $1",
            "DELETE FROM events WHERE case_id = $1",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                await conn.execute(sql, case_id)
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await conn.execute("TRUNCATE events")
        assert await conn.fetchval("SELECT count(*) FROM events WHERE case_id = $1", case_id) == 1


async def test_a_batch_is_all_or_nothing(api, pool, case_id):
    good, bad = case_opened(), employment_started(start="2024-13-01")
    response = await api.append(case_id, good, bad)
    assert response.status_code == 422
    async with pool.acquire() as conn:
        assert await store.read_stream(conn, case_id) == []
    refused = await api.append(case_id, case_opened(), case_opened())
    assert refused.status_code == 409 and refused.json()["rule"] == "case_already_opened"
    async with pool.acquire() as conn:
        assert await store.read_stream(conn, case_id) == []


async def test_hash_chain_links_each_event_to_the_previous(api, pool, case_id):
    await api.append(case_id, case_opened(), employment_started())
    async with pool.acquire() as conn:
        events = await store.read_stream(conn, case_id)
    assert events[0].hash == events[0].expected_hash(GENESIS)
    assert events[1].hash == events[1].expected_hash(events[0].hash)
    assert store.verify_stream(events)["ok"] is True


async def test_known_at_reads_the_stream_as_it_was(api, pool, case_id):
    await api.append(case_id, case_opened())
    middle = datetime.now(UTC)
    await asyncio.sleep(0.01)
    await api.append(case_id, employment_started())
    async with pool.acquire() as conn:
        then = await store.read_stream(conn, case_id, known_at=middle)
        now = await store.read_stream(conn, case_id)
    assert [e.version for e in then] == [1]
    assert [e.version for e in now] == [1, 2]


async def test_concurrent_writers_on_one_case_lose_nothing_and_duplicate_nothing(api, pool, case_id):
    await api.append(case_id, case_opened())
    jobs = [employment_started(f"job{i}", soc="35-2014") for i in range(30)]
    responses = await asyncio.gather(*(api.append(case_id, job) for job in jobs))
    assert all(r.status_code == 201 for r in responses), [r.text for r in responses if r.status_code != 201]
    async with pool.acquire() as conn:
        events = await store.read_stream(conn, case_id)
    assert [e.version for e in events] == list(range(1, 32))
    assert sorted(e.data["job_id"] for e in events[1:]) == sorted(j["data"]["job_id"] for j in jobs)
    assert store.verify_stream(events)["ok"] is True


async def test_stale_expected_version_under_contention_is_a_409_with_the_current_version(api, case_id):
    await api.append(case_id, case_opened())
    responses = await asyncio.gather(
        *(api.append(case_id, employment_started(f"j{i}"), expected_version=1) for i in range(10))
    )
    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) == 1 and codes.count(409) == 9
    for r in responses:
        if r.status_code == 409:
            assert r.json()["code"] == "version_conflict" and r.json()["current_version"] == 2


async def _open_case_in_open_transaction(conn: asyncpg.Connection, case_id: str) -> None:
    recorded_at = datetime.now(UTC)
    data = case_opened()["data"]
    event_id = uuid4()
    digest = event_hash(
        GENESIS,
        case_id=case_id,
        version=1,
        event_id=event_id,
        type="CaseOpened",
        schema_version=1,
        data=data,
        metadata={},
        recorded_at=recorded_at,
    )
    await appends.append(
        conn,
        case_id=case_id,
        expected_version=0,
        events=[appends.NewEvent(event_id, "CaseOpened", 1, data, {}, digest)],
        recorded_at=recorded_at,
        fold_version=0,
        state={},
        clock_row=None,
        ledger_rows=None,
    )


async def test_feed_never_skips_an_event_whose_transaction_commits_late(api, pool):
    async with pool.acquire() as conn:
        tail = await store.read_all(conn, after=0, limit=1_000_000)
    cursor = tail[-1].position if tail else 0
    late_case = f"late-{uuid4().hex[:8]}"
    seen: list[int] = []

    async def follow() -> None:
        nonlocal cursor
        async with pool.acquire() as conn:
            batch = await store.read_all(conn, after=cursor, limit=1000)
        seen.extend(e.position for e in batch)
        if batch:
            cursor = batch[-1].position

    holder = await pool.acquire()
    transaction = holder.transaction()
    await transaction.start()
    await _open_case_in_open_transaction(holder, late_case)
    early = [f"early-{uuid4().hex[:8]}" for _ in range(5)]
    for case in early:
        assert (await api.append(case, case_opened())).status_code == 201
        await follow()
    assert seen == [], "events that committed after an open transaction must wait behind it"
    await transaction.commit()
    await pool.release(holder)
    async with pool.acquire() as conn:
        mine = {late_case, *early}
        expected = {e.position for e in await store.read_stream(conn, late_case)}
        for case in early:
            expected |= {e.position for e in await store.read_stream(conn, case)}
    # Any other open transaction on the server also holds the horizon back: wait for it.
    for _ in range(200):
        await follow()
        if expected <= set(seen):
            break
        await asyncio.sleep(0.05)
    assert mine and seen == sorted(seen) and len(seen) == len(set(seen))
    assert expected <= set(seen)
    async with pool.acquire() as conn:
        late = (await store.read_stream(conn, late_case))[0].position
    assert late in seen and late < max(seen)
