"""Benchmark 1: durable single-event appends with 8 concurrent writers.

- raw: asyncpg BEGIN / INSERT / COMMIT of one row into a table with the same
  columns and constraints as `events` (the limit: three round trips and one
  fsync'd commit per event, nothing else).
- store, existing cases: AppendHandler.append of one event (an authorization,
  then its payment, and so on) to cases that already hold 30 events of a
  generated case history; the service's cache holds them, as it would for
  cases being worked on.
- store, new cases: AppendHandler.append of a CaseOpened to a new case.
The peer (the `eventsourcing` library) is in bench/peer.py.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from app.domain.policy import DEFAULT_POLICY
from app.service.append import AppendHandler
from app.service.keys import Principal
from app.service.validate import Proposed
from app.store.db import create_pool
from bench import gen
from bench.common import CpuSplit

RAW_TABLE = """
CREATE TABLE IF NOT EXISTS raw_events (
    position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id text NOT NULL,
    version integer NOT NULL CHECK (version >= 1),
    event_id uuid NOT NULL UNIQUE,
    type text NOT NULL,
    schema_version integer NOT NULL,
    data jsonb NOT NULL,
    metadata jsonb NOT NULL,
    recorded_at timestamptz NOT NULL,
    hash text NOT NULL,
    UNIQUE (case_id, version)
)
"""
RAW_INSERT = (
    "INSERT INTO raw_events (case_id, version, event_id, type, schema_version, data, metadata,"
    " recorded_at, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
)
PRINCIPAL = Principal("bench0000000", "case_system")
PRELOAD_EVENTS = 30
CASES_PER_WRITER = 100


async def timed_writers(
    writers: int, step: Callable[[int], Awaitable[int]], seconds: float, warmup: float = 0.3
) -> tuple[int, float, CpuSplit]:
    """`writers` loops of `step(writer)` (each returns events written); counts the timed window."""
    counting = False
    counted = 0
    stop = False

    async def loop(w: int) -> None:
        nonlocal counted
        while not stop:
            n = await step(w)
            if counting:
                counted += n

    tasks = [asyncio.create_task(loop(w)) for w in range(writers)]
    await asyncio.sleep(warmup)
    with CpuSplit() as cpu:
        counting = True
        await asyncio.sleep(seconds)
        counting = False
    stop = True
    await asyncio.gather(*tasks)
    return counted, cpu.wall, cpu


def summed(windows: list[tuple[int, float, CpuSplit]]) -> dict[str, Any]:
    """Several `timed_writers` windows of one side as one figure (CPU split of the last)."""
    events, wall = sum(w[0] for w in windows), sum(w[1] for w in windows)
    return {"events": events, "rate": events / wall, "cpu": windows[-1][2].as_dict(windows[-1][0])}


def _payment(i: int) -> dict[str, Any]:
    return {
        "authorization_id": f"auth-{i}",
        "payment_date": "2024-03-01",
        "amount": "125.00",
        "paid_in_full": False,
    }


async def raw(url: str, writers: int, seconds: float) -> dict[str, Any]:
    pool = await create_pool(url, min_size=writers, max_size=writers)
    try:
        async with pool.acquire() as conn:
            await conn.execute(RAW_TABLE)
        run = uuid.uuid4().hex[:6]
        versions = [0] * writers
        metadata = {"actor": "case_system:bench", "source": "bench"}
        counter = itertools.count()

        async def step(w: int) -> int:
            versions[w] += 1
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute(
                    RAW_INSERT,
                    f"raw-{run}-{w}",
                    versions[w],
                    uuid.uuid4(),
                    "AuthorizationPaid",
                    1,
                    _payment(next(counter)),
                    metadata,
                    datetime.now(UTC),
                    "0" * 64,
                )
            return 1

        n, wall, cpu = await timed_writers(writers, step, seconds)
    finally:
        await pool.close()
    return {"events": n, "seconds": wall, "rate": n / wall, "cpu": cpu.as_dict(n)}


def continuation(case_id: str, category: str) -> Any:
    """An endless valid tail for a case: issue an authorization, pay it in full, repeat."""
    for k in itertools.count(1):
        auth = f"{case_id}-x{k}"
        yield (
            "AuthorizationIssued",
            {
                "authorization_id": auth,
                "provider_id": "prov-007",
                "service_category": category,
                "start_date": "2024-05-01",
                "end_date": "2024-06-15",
                "amount": "640.00",
                "post_employment": True,
            },
        )
        yield (
            "AuthorizationPaid",
            {
                "authorization_id": auth,
                "payment_date": "2024-06-10",
                "amount": "640.00",
                "paid_in_full": True,
            },
        )


async def preload_cases(handler: AppendHandler, n: int, seed: int, prefix: str) -> dict[str, Any]:
    """n cases holding the first PRELOAD_EVENTS events of a generated history (one append each);
    returns each case's endless valid continuation."""
    rng = random.Random(seed)
    ids = [f"{prefix}-{i:05d}" for i in range(n)]
    sem = asyncio.Semaphore(8)
    scripts = {}

    async def one(case_id: str) -> None:
        events = gen.long_case(rng, case_id, 60)[:PRELOAD_EVENTS]
        if not any(t == "EmploymentStarted" for t, _ in events):
            raise AssertionError("a preloaded case should be employed")
        scripts[case_id] = continuation(case_id, events[0][1]["ipe_service_categories"][0])
        async with sem:
            await handler.append(PRINCIPAL, case_id, 0, [Proposed(t, d) for t, d in events])

    await asyncio.gather(*(one(c) for c in ids))
    return scripts


async def existing_case_steps(
    handler: AppendHandler, writers: int, cases_per_writer: int, seed: int, prefix: str
) -> Callable[[int], Awaitable[int]]:
    """Preloads `writers * cases_per_writer` cases; each call of the step appends one event
    to the next of writer w's cases (for `timed_writers`, as often as wanted)."""
    scripts = await preload_cases(handler, writers * cases_per_writer, seed, prefix)
    ids = list(scripts)
    versions = dict.fromkeys(ids, PRELOAD_EVENTS)
    mine = [itertools.cycle(ids[w::writers]) for w in range(writers)]

    async def step(w: int) -> int:
        case_id = next(mine[w])
        type_, data = next(scripts[case_id])
        done = await handler.append(PRINCIPAL, case_id, versions[case_id], [Proposed(type_, data)])
        versions[case_id] = done.version
        return 1

    return step


async def store(
    url: str,
    writers: int,
    seconds: float,
    *,
    new_cases: bool,
    seed: int,
    cases_per_writer: int = CASES_PER_WRITER,
) -> dict[str, Any]:
    pool = await create_pool(url, min_size=writers, max_size=10)
    try:
        handler = AppendHandler(pool, DEFAULT_POLICY)
        run = uuid.uuid4().hex[:6]
        if new_cases:
            counters = [itertools.count() for _ in range(writers)]

            async def step(w: int) -> int:
                case_id = f"new-{run}-{w}-{next(counters[w])}"
                await handler.append(
                    PRINCIPAL,
                    case_id,
                    0,
                    [
                        Proposed(
                            "CaseOpened",
                            {
                                "opened_on": "2024-02-01",
                                "supported_employment": False,
                                "ipe_service_categories": ["job_placement", "job_coaching"],
                            },
                        )
                    ],
                )
                return 1
        else:
            step = await existing_case_steps(handler, writers, cases_per_writer, seed, f"ex-{run}")
        n, wall, cpu = await timed_writers(writers, step, seconds)
    finally:
        await pool.close()
    return {"events": n, "seconds": wall, "rate": n / wall, "cpu": cpu.as_dict(n)}
