"""Benchmark: `POST /policy/preview` over 100,000 cases (issue 11, item 8; target < 30 s).

Builds once, in its own database `caseledger_bench_policy` on the benchmark server
(bench.common.server_url: --database-url, else 127.0.0.1:5432, else the embedded one):
95,000 short cases (bench/gen.py: the worklist's mix) and 5,000 long ones with a
PBA (20-60 events), imported with `caseledger import`'s own path (two worker
processes, app.ops.workers.import_in_workers -> app.ops.bulk_import.import_file).
Then walks every page of the preview of a retroactive version (from 2022-01-01: a
120-day wait, job hire 1400.00) as the service runs it (app.service.policy_preview,
1,000 changes a page) and prints the wall time, the pages and the cases listed.

    .venv/bin/python -m bench.policy_preview [--database-url URL] [--cases 100000]

The preview is judged against the recorded policy: after the row has been adopted in
that database it lists nothing (drop `caseledger_bench_policy` to measure afresh).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import date
from pathlib import Path

import orjson

from app.domain.policy import DEFAULT_POLICY, version_from_row
from app.service.policy import recorded_table
from app.service.policy_preview import preview
from app.store.db import connect, create_pool
from app.store.migrations import upgrade_to_head
from bench import gen
from bench.common import OUT, log, server_url, with_database

DATABASE = "caseledger_bench_policy"
PROPOSED = {
    "effective_from": "2022-01-01",
    "closure_wait_days": 120,
    "milestone_rates": {
        "placement_plan_signed": "1000.00",
        "job_hire": "1400.00",
        "successful_placement": "1500.00",
    },
    "pba_cap_per_consumer": "3800.00",
}
TODAY = gen.AS_OF


def write_export(path: Path, cases: int) -> int:
    """95% short cases, 5% long ones with a PBA; the number of events written."""
    long_cases = cases // 20
    streams = [
        *gen.cases(11, cases - long_cases, short=True, prefix="ps"),
        *_take(gen.cases(12, 10**9, prefix="pl", sizes=(20, 60)), long_cases),
    ]
    events = 0
    with path.open("wb") as f:
        for case_id, stream in streams:
            events += len(stream)
            f.write(b"".join(orjson.dumps(line) + b"\n" for line in gen.lines(11, case_id, stream)))
    return events


def _take(iterator, n: int) -> list:  # type: ignore[no-untyped-def]
    return [item for _, item in zip(range(n), iterator, strict=False)]


async def ensure_database(server: str, cases: int) -> str:
    url = with_database(server, DATABASE)
    admin = await connect(server)
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE):
            await admin.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await admin.close()
    await upgrade_to_head(url)
    conn = await connect(url)
    try:
        have = await conn.fetchval("SELECT count(*) FROM case_state")
    finally:
        await conn.close()
    if have < cases:
        await _import(url, cases)
    return url


async def _import(url: str, cases: int) -> None:
    from app.ops.workers import import_in_workers

    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"policy-preview-{cases}.ndjson"
    t = time.perf_counter()
    events = write_export(path, cases)
    log(f"generated {cases} cases, {events} events in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    summary = await asyncio.to_thread(
        import_in_workers,
        url,
        path,
        workers=2,
        batch_size=20_000,
        rejects_path=path.with_suffix(".rejects.ndjson"),
        policy=DEFAULT_POLICY,
    )
    log(f"imported in {time.perf_counter() - t:.1f} s: {summary}")


async def main(explicit: str | None, cases: int) -> None:
    server, where = await server_url(explicit)
    url = await ensure_database(server, cases)
    pool = await create_pool(url, min_size=1, max_size=4, statement_timeout_ms=600_000)
    try:
        current = await recorded_table(pool, DEFAULT_POLICY, "default")
        async with pool.acquire() as conn:
            total = await conn.fetchval("SELECT count(*) FROM case_state")
        proposed, cursor, pages, changes = version_from_row(PROPOSED), None, 0, 0
        started = time.perf_counter()
        while True:
            page = await preview(pool, current, proposed, today=TODAY, cursor=cursor, limit=1000)
            pages, changes = pages + 1, changes + len(page.changes)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        took = time.perf_counter() - started
    finally:
        await pool.close()
    print(
        f"policy preview over {total} cases ({where}): {changes} cases change, {pages} pages, "
        f"{took:.1f} s wall (target < 30 s) as of {date.isoformat(TODAY)}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--cases", type=int, default=100_000)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.database_url, arguments.cases))
