"""Benchmark 6: replaying one 50-event case as of a date, in process.

The case (a generated PBA case of exactly 50 events) is appended through
AppendHandler and read back with store.read_stream, so the StoredEvents are
exactly what the service reads. Timed, per sample: the events recorded by the
`known_at` time become facts (schema parse and upcast, `reads.to_fact`), are
replayed (`app.domain.case.replay`, retractions honoured) and both views are
evaluated on the `as_of` date (`clock_view` and `ledger_view`). The split of
the three steps is reported beside the total.
"""

from __future__ import annotations

import random
import time
from typing import Any

from app.domain.case import clock_view, replay
from app.domain.ledger import ledger_view
from app.domain.policy import DEFAULT_POLICY
from app.service.append import AppendHandler
from app.service.reads import to_fact
from app.service.validate import Proposed
from app.store import streams as store
from app.store.db import create_pool
from bench import gen
from bench.appends import PRINCIPAL
from bench.common import percentile

EVENTS = 50


async def stored_case(url: str, seed: int) -> list[store.StoredEvent]:
    pool = await create_pool(url, min_size=1, max_size=2)
    try:
        handler = AppendHandler(pool, DEFAULT_POLICY)
        case_id = f"replay-{seed}"
        events = gen.long_case(random.Random(seed), case_id, EVENTS)
        for start in range(0, len(events), 5):  # several appends: distinct recorded_at times
            await handler.append(
                PRINCIPAL, case_id, None, [Proposed(t, d) for t, d in events[start : start + 5]]
            )
        async with pool.acquire() as conn:
            return await store.read_stream(conn, case_id)
    finally:
        await pool.close()


def measure(events: list[store.StoredEvent], samples: int) -> dict[str, Any]:
    assert len(events) == EVENTS, len(events)
    known_at = events[-1].recorded_at
    as_of = max(e.recorded_at for e in events).date()
    total, parse, fold, views = [], [], [], []
    for _ in range(samples):
        t0 = time.perf_counter()
        facts = [to_fact(e) for e in events if e.recorded_at <= known_at]
        t1 = time.perf_counter()
        state = replay(facts)
        t2 = time.perf_counter()
        clock = clock_view(state, as_of, DEFAULT_POLICY)
        ledger = ledger_view(state.ledger, DEFAULT_POLICY)
        t3 = time.perf_counter()
        total.append(t3 - t0)
        parse.append(t1 - t0)
        fold.append(t2 - t1)
        views.append(t3 - t2)
    assert clock.status and ledger is not None
    return {
        "samples": samples,
        "p50_ms": percentile(total, 50) * 1e3,
        "p99_ms": percentile(total, 99) * 1e3,
        "parse_p50_ms": percentile(parse, 50) * 1e3,
        "fold_p50_ms": percentile(fold, 50) * 1e3,
        "views_p50_ms": percentile(views, 50) * 1e3,
        "status": clock.status,
    }
