"""A closure-clock read on a date before the case's latest business date (issue 11's
business time), without `known_at`: the cached state answers, or the clock log of the
snapshot the row's statement brings when it is at the case's version, or an older snapshot
and the events after it, or else the stream read after the row; each says what a full fold
of the events says."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from app.domain.policy import DEFAULT_POLICY
from app.service import reads
from app.service.state_cache import CachedCase, StateCache
from app.store.read_models import read_clock
from tests.builders import case_closed, employment_ended, retracted
from tests.integration.test_ledger_http import ok, pba_case

LATER = datetime(2999, 1, 1, tzinfo=UTC)  # as known at a moment after every recording: a full fold
DAYS = ("2024-01-15", "2024-03-01", "2024-05-20", "2024-06-25", "2024-07-02")


async def answers(conn: Any, case_id: str, as_of: date, cache: StateCache | None) -> tuple[Any, int]:
    return await reads.closure_clock(
        conn, case_id, as_of=as_of, known_at=None, policy=DEFAULT_POLICY, cache=cache
    )


async def reads_as_full_folds(conn: Any, case_id: str) -> set[str]:
    """Each of DAYS read from the row's statement (its snapshot or the stream) and from the
    cached state, against a full fold; the statuses seen."""
    state, version = await reads.case_state(conn, case_id)
    cache = StateCache()
    cache.put(case_id, CachedCase(version, state, None, []))
    seen = set()
    for day in map(date.fromisoformat, DAYS):
        folded = await reads.closure_clock(
            conn, case_id, as_of=day, known_at=LATER, policy=DEFAULT_POLICY, cache=None
        )
        assert await answers(conn, case_id, day, None) == folded  # with the row's statement
        assert await answers(conn, case_id, day, cache) == folded  # the cached state
        seen.add(folded[0].status)
    return seen


async def test_an_earlier_date_reads_as_a_full_fold_from_the_stream_the_snapshot_and_the_cache(
    api, pool, owner_pool, case_id
):
    await pba_case(api, case_id, f"prov-{uuid.uuid4().hex[:10]}")  # eligible 2024-05-15
    ended = await ok(api, case_id, employment_ended("j1", "2024-07-01"))
    async with pool.acquire() as conn:
        # the first append's snapshot, and the event after it
        assert await sends(conn, case_id) == {"snapshot"}
        first = await reads_as_full_folds(conn, case_id)
    await ok(api, case_id, retracted(ended[0]), employment_ended("j1", "2024-06-30"))
    async with pool.acquire() as conn:
        # a retraction snapshots the case: the row's statement brings the snapshot's clock log
        assert await sends(conn, case_id) == {"clock_log"}
        second = await reads_as_full_folds(conn, case_id)
    await ok(api, case_id, case_closed("2024-06-20"))
    async with pool.acquire() as conn:
        assert await sends(conn, case_id) == {"snapshot"}
        third = await reads_as_full_folds(conn, case_id)
        # a snapshot of another fold is not trusted: the stream is read after the row
        stale = "UPDATE case_state SET fold_version = fold_version - 1 WHERE case_id = $1"
        await owner_pool.execute(stale, case_id)  # (the service's role may not: docs/trust.md)
        assert await reads_as_full_folds(conn, case_id) == third
    assert {"running", "eligible"} <= first
    assert {"running", "eligible"} <= second
    assert {"running", "eligible", "closed"} <= third


async def sends(conn: Any, case_id: str) -> set[str]:
    """What the row's statement sends to re-fold an earlier date; nothing for a later one."""
    later = await read_clock(conn, case_id, date(2999, 1, 1))
    assert later is not None and (later.snapshot, later.clock_log) == (None, None)
    earlier = await read_clock(conn, case_id, date.fromisoformat(DAYS[0]))
    return {name for name in ("clock_log", "snapshot") if getattr(earlier, name) is not None}
