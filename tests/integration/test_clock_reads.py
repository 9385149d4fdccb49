"""A closure-clock read on a date before the case's latest business date (issue 11's
business time), without `known_at`: the stream comes with the stored row in one round
trip, or the cached state answers; either says what a full fold of the events says."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from app.domain.policy import DEFAULT_POLICY
from app.service import reads
from app.service.state_cache import CachedCase, StateCache
from tests.builders import case_closed, employment_ended, retracted
from tests.integration.test_ledger_http import ok, pba_case

LATER = datetime(2999, 1, 1, tzinfo=UTC)  # as known at a moment after every recording: a full fold
DAYS = ("2024-01-15", "2024-03-01", "2024-05-20", "2024-06-25", "2024-07-02")


async def answers(conn: Any, case_id: str, as_of: date, cache: StateCache | None) -> tuple[Any, int]:
    return await reads.closure_clock(
        conn, case_id, as_of=as_of, known_at=None, policy=DEFAULT_POLICY, cache=cache
    )


async def test_an_earlier_date_reads_as_a_full_fold_from_the_stream_and_from_the_cache(api, pool, case_id):
    await pba_case(api, case_id, f"prov-{uuid.uuid4().hex[:10]}")  # eligible 2024-05-15
    ended = await ok(api, case_id, employment_ended("j1", "2024-07-01"))
    await ok(
        api, case_id, retracted(ended[0]), employment_ended("j1", "2024-06-30"), case_closed("2024-06-20")
    )
    async with pool.acquire() as conn:
        state, version = await reads.case_state(conn, case_id)
        cache = StateCache()
        cache.put(case_id, CachedCase(version, state, None, []))
        seen = set()
        for day in map(date.fromisoformat, DAYS):
            folded = await reads.closure_clock(
                conn, case_id, as_of=day, known_at=LATER, policy=DEFAULT_POLICY, cache=None
            )
            assert await answers(conn, case_id, day, None) == folded  # the stream, read with the row
            assert await answers(conn, case_id, day, cache) == folded  # the cached state
            seen.add(folded[0].status)
    assert {"running", "eligible", "closed"} <= seen
