"""Benchmark 5: closure-clock reads and the closure worklist over 100k cases, through HTTP.

The database holds 100k short cases (2-8 events; bench/gen.py spreads their
dates so every status occurs on the evaluation date), loaded by the bulk
importer (or, without it, by AppendHandler one case per append).
- closure clock: 32 clients GET /cases/{id}/closure-clock?as_of=... on random
  cases (far more cases than the service's in-process state cache holds, so
  most reads fold the stored snapshot and tail);
- worklist: 4 clients page GET /closure-clock/worklist by status and
  eligible_by (first pages and cursor pages), 100 rows a page.
The server's RSS is sampled throughout (benchmark 7, reads).
"""

from __future__ import annotations

import itertools
import random
from datetime import datetime, timedelta
from typing import Any

import orjson

from app.store.db import connect
from bench.gen import AS_OF
from bench.httpload import RawConnection, run_load
from bench.server import Server

READ_CLIENTS = 32
WORKLIST_CLIENTS = 4


async def clock_reads(
    server: Server, key: str, case_ids: list[str], *, kind: str, seconds: float, seed: int
) -> dict[str, Any]:
    rngs = [random.Random(seed * 1000 + i) for i in range(READ_CLIENTS)]
    bad: list[str] = []

    async def step(conn: Any, client: int) -> int:
        case_id = rngs[client].choice(case_ids)
        status, payload = await conn.request("GET", f"/cases/{case_id}/closure-clock?as_of={AS_OF}")
        if status != 200 and len(bad) < 5:
            bad.append(f"{status}: {payload[:200]!r}")
        return status

    result = await run_load(
        kind,
        server.host,
        server.port,
        key,
        READ_CLIENTS,
        seconds,
        step,
        server_pids=server.worker_pids,
    )
    return {**result.summary(), "errors": bad}


async def worklist_queries(server: Server, key: str) -> list[str]:
    """First pages by status and date, and the second page of each (by its cursor)."""
    base = f"/closure-clock/worklist?as_of={AS_OF}&limit=100"
    firsts = [
        base,
        f"{base}&status=eligible",
        f"{base}&status=running",
        f"{base}&status=waiting",
        f"{base}&status=not_employed",
        f"{base}&eligible_by={AS_OF + timedelta(days=30)}",
        f"{base}&status=running&eligible_by={AS_OF + timedelta(days=14)}",
    ]
    conn = RawConnection(server.host, server.port, {"Authorization": f"Bearer {key}"})
    queries = list(firsts)
    for q in firsts:
        status, payload = await conn.request("GET", q)
        if status != 200:
            raise RuntimeError(f"worklist {q} answered {status}: {payload[:300]!r}")
        cursor = orjson.loads(payload).get("next_cursor")
        if cursor:
            queries.append(f"{q}&cursor={cursor}")
    await conn.close()
    return queries


async def worklist(server: Server, key: str, *, kind: str, seconds: float) -> dict[str, Any]:
    queries = await worklist_queries(server, key)
    cycles = [itertools.cycle(queries[i:] + queries[:i]) for i in range(WORKLIST_CLIENTS)]

    async def step(conn: Any, client: int) -> int:
        status, _ = await conn.request("GET", next(cycles[client]))
        return status

    result = await run_load(
        kind,
        server.host,
        server.port,
        key,
        WORKLIST_CLIENTS,
        seconds,
        step,
        server_pids=server.worker_pids,
    )
    return {**result.summary(), "queries": len(queries)}


async def status_mix(url: str) -> dict[str, int]:
    """How the loaded cases spread over the worklist statuses on AS_OF (a check of the data)."""
    from app.store.db import connect

    conn = await connect(url)
    try:
        rows = await conn.fetch(
            "SELECT CASE WHEN phase <> 'in_follow_up' THEN phase"
            " WHEN clock_start > $1 THEN 'waiting' WHEN eligible_on <= $1 THEN 'eligible'"
            " ELSE 'running' END AS status, count(*) AS n FROM closure_clock GROUP BY 1",
            AS_OF,
        )
    finally:
        await conn.close()
    return {r["status"]: int(r["n"]) for r in rows}


async def access_records(url: str, *, since: datetime | None) -> int:
    """Access records the service wrote for requests made at or after `since` (all: None)."""
    conn = await connect(url)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM access_log WHERE $1::timestamptz IS NULL OR at >= $1", since
            )
        )
    finally:
        await conn.close()
