"""A client that times out and retries with the same event_id: 0 duplicates, the original answer.

A slow append is made deterministic by a blocker: another transaction holds an
uncommitted event at the case's next version, so the service's INSERT waits on
the unique index until the blocker rolls back (or commits). Meanwhile the client
gives up (its request keeps running, as behind a real proxy timeout), or its
request is cancelled, and it retries with the same event_id and content.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest

from app.domain.case import FOLD_VERSION
from app.store import appends
from app.store.pool import Pool
from tests.builders import authorization, case_opened, with_id

PROBLEM = "application/problem+json"


async def open_case(api: Any, case_id: str) -> None:
    r = await api.append(case_id, case_opened())
    assert r.status_code == 201, r.text


async def stream(api: Any, case_id: str) -> list[dict[str, Any]]:
    r = await api.get(f"/cases/{case_id}/events")
    assert r.status_code == 200, r.text
    return r.json()["events"]


def answer(r: httpx.Response) -> tuple[int, tuple[tuple[str, int, int], ...]]:
    """What a client learns from a 201: the version and each event's (id, version, position)."""
    assert r.status_code == 201, r.text
    body = r.json()
    return body["version"], tuple((e["event_id"], e["version"], e["position"]) for e in body["events"])


class Blocker:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.open = True

    async def end(self, *, commit: bool) -> None:
        await self.conn.execute("COMMIT" if commit else "ROLLBACK")
        self.open = False


@contextlib.asynccontextmanager
async def blocker(pool: Pool, case_id: str, version: int) -> AsyncIterator[Blocker]:
    """An open transaction holding an uncommitted event at `version + 1` of the case."""
    async with pool.acquire() as conn:
        await conn.execute("BEGIN")
        held = Blocker(conn)
        try:
            event = appends.NewEvent(
                uuid.uuid4(),
                "IPEAmended",
                1,
                {"amended_on": "2024-01-03", "service_categories_added": []},
                {"actor": "test:blocker"},
                "0" * 64,
            )
            await appends.append(
                conn,
                case_id=case_id,
                expected_version=version,
                events=[event],
                recorded_at=datetime.now(UTC),
                fold_version=FOLD_VERSION,
                state=None,
                clock_row=None,
                ledger_rows=None,
            )
            yield held
        finally:
            if held.open:
                await held.end(commit=False)


async def waiting_on_lock(pool: Pool, n: int, within: float = 10.0) -> None:
    """Until `n` backends of this database wait on a lock (the blocked INSERTs)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        waiting = await pool.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock'"
        )
        if waiting >= n:
            return
        assert asyncio.get_running_loop().time() < deadline, f"{waiting} of {n} appends blocked"
        await asyncio.sleep(0.02)


async def test_the_same_append_sent_twice_is_stored_once_with_the_original_answer(api, case_id):
    await open_case(api, case_id)
    event = with_id(authorization("a-1", "2024-01-05", "2024-02-05"), uuid.uuid4())
    first = await api.append(case_id, event)
    again = await api.append(case_id, event)
    assert answer(again) == answer(first)
    assert first.json()["idempotent_replay"] is False and again.json()["idempotent_replay"] is True
    assert [e["event_id"] for e in await stream(api, case_id)].count(event["event_id"]) == 1


@pytest.mark.parametrize("expected_version", [None, 1], ids=["any-version", "expected-version"])
async def test_the_same_append_sent_10_times_at_once_is_stored_once(api, case_id, expected_version):
    await open_case(api, case_id)
    events = [with_id(authorization(f"a-{i}", "2024-01-05", "2024-02-05"), uuid.uuid4()) for i in range(2)]
    responses = await asyncio.gather(
        *(api.append(case_id, *events, expected_version=expected_version) for _ in range(10))
    )
    answers = {answer(r) for r in responses}
    assert len(answers) == 1, [r.text for r in responses]
    assert sorted(r.json()["idempotent_replay"] for r in responses) == [False] + [True] * 9
    stored = [e["event_id"] for e in await stream(api, case_id)]
    assert len(stored) == 3 and stored[1:] == [e["event_id"] for e in events]


async def test_a_client_that_times_out_and_retries_gets_the_original_answer(api, pool, case_id):
    """The first request outlives the client's patience and commits; the retry, sent while
    it is still blocked, is answered with what the first one stored."""
    await open_case(api, case_id)
    event = with_id(authorization("a-1", "2024-01-05", "2024-02-05"), uuid.uuid4())
    async with blocker(pool, case_id, 1) as held:
        first = asyncio.create_task(api.append(case_id, event))
        await waiting_on_lock(pool, 1)
        with pytest.raises(TimeoutError):  # the client gives up; the server carries on
            await asyncio.wait_for(asyncio.shield(first), 0.2)
        retry = asyncio.create_task(api.append(case_id, event))
        await waiting_on_lock(pool, 2)
        await held.end(commit=False)
    original, retried = await first, await retry
    assert answer(retried) == answer(original)
    assert answer(original)[0] == 2
    assert [e["event_id"] for e in await stream(api, case_id)].count(event["event_id"]) == 1


async def test_a_retry_after_another_writer_took_the_version_gets_the_original_answer(api, pool, case_id):
    """As above, but the blocker commits: the first request moves to the next version."""
    await open_case(api, case_id)
    event = with_id(authorization("a-1", "2024-01-05", "2024-02-05"), uuid.uuid4())
    async with blocker(pool, case_id, 1) as held:
        first = asyncio.create_task(api.append(case_id, event))
        await waiting_on_lock(pool, 1)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.shield(first), 0.2)
        retry = asyncio.create_task(api.append(case_id, event))
        await waiting_on_lock(pool, 2)
        await held.end(commit=True)
    original, retried = await first, await retry
    assert answer(retried) == answer(original)
    assert answer(original)[0] == 3
    assert [e["event_id"] for e in await stream(api, case_id)].count(event["event_id"]) == 1


async def test_an_overlapping_retry_with_expected_version_gets_the_original_answer(api, pool, case_id):
    """The retry and its original both wait on the same version; the original wins it, and the
    retry, losing on (case_id, version), must find its own event_id there: the original answer,
    not version_conflict."""
    await open_case(api, case_id)
    event = with_id(authorization("a-1", "2024-01-05", "2024-02-05"), uuid.uuid4())
    async with blocker(pool, case_id, 1) as held:
        first = asyncio.create_task(api.append(case_id, event, expected_version=1))
        await waiting_on_lock(pool, 1)
        retry = asyncio.create_task(api.append(case_id, event, expected_version=1))
        await waiting_on_lock(pool, 2)
        await held.end(commit=False)
    original, retried = await first, await retry
    assert answer(original)[0] == 2
    assert [e["event_id"] for e in await stream(api, case_id)].count(event["event_id"]) == 1
    assert answer(retried) == answer(original)


async def test_a_request_cancelled_while_blocked_stores_nothing_and_the_retry_stores_once(api, pool, case_id):
    await open_case(api, case_id)
    event = with_id(authorization("a-1", "2024-01-05", "2024-02-05"), uuid.uuid4())
    async with blocker(pool, case_id, 1):
        first = asyncio.create_task(api.append(case_id, event))
        await waiting_on_lock(pool, 1)
        first.cancel()  # the request dies with the client (its query is cancelled)
        with pytest.raises(asyncio.CancelledError):
            await first
    retried = await api.append(case_id, event)
    assert answer(retried)[0] == 2 and retried.json()["idempotent_replay"] is False
    assert [e["event_id"] for e in await stream(api, case_id)].count(event["event_id"]) == 1


async def test_requests_cancelled_at_any_point_then_retried_are_stored_once(api, case_id):
    """Cancel the append after 0-40 ms (before, during or after its commit), then retry:
    the retry always succeeds and the event is stored once."""
    await open_case(api, case_id)
    rng = random.Random(66)
    ids = []
    for i in range(40):
        event = with_id(authorization(f"a-{i}", "2024-01-05", "2024-02-05"), uuid.uuid4())
        ids.append(event["event_id"])
        task = asyncio.create_task(api.append(case_id, event))
        await asyncio.sleep(rng.uniform(0, 0.04))
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        retried = await api.append(case_id, event)
        assert retried.status_code == 201, retried.text
    stored = [e["event_id"] for e in await stream(api, case_id)]
    assert stored[1:] == ids  # each once, in the order the client meant


def conflict(r: httpx.Response, code: str = "idempotency_conflict") -> dict[str, Any]:
    assert r.status_code == 409, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["code"] == code, body
    return body


async def test_reusing_an_event_id_with_other_content_is_refused(api, case_id):
    await open_case(api, case_id)
    event_id = uuid.uuid4()
    event = with_id(authorization("a-1", "2024-01-05", "2024-02-05"), event_id)
    assert (await api.append(case_id, event)).status_code == 201

    changed = with_id(authorization("a-1", "2024-01-05", "2024-02-06"), event_id)
    conflict(await api.append(case_id, changed))
    other_type = with_id(
        {"type": "IPEAmended", "data": {"amended_on": "2024-01-05", "service_categories_added": []}}, event_id
    )
    conflict(await api.append(case_id, other_type))
    other_case = f"{case_id}-b"
    await open_case(api, other_case)
    conflict(await api.append(other_case, event))
    # the same id beside a new event is another append, not a retry of the first
    conflict(
        await api.append(
            case_id, event, with_id(authorization("a-2", "2024-01-05", "2024-02-05"), uuid.uuid4())
        )
    )
    assert len(await stream(api, case_id)) == 2 and len(await stream(api, other_case)) == 1


async def test_concurrent_reuse_with_other_content_stores_one_and_refuses_the_rest(api, case_id):
    await open_case(api, case_id)
    event_id = uuid.uuid4()
    variants = [
        with_id(authorization("a-1", "2024-01-05", f"2024-02-{d:02d}"), event_id) for d in range(1, 11)
    ]
    responses = await asyncio.gather(*(api.append(case_id, v) for v in variants))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 9, [r.text for r in responses]
    for r in responses:
        if r.status_code == 409:
            conflict(r)
    assert len(await stream(api, case_id)) == 2
