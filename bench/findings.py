"""Benchmark: the auditor's findings (`GET /findings`' queries) over an imported export.

Generates the export (`bench.gen`, as the bulk benchmark does), imports it with
`caseledger import`'s importer into a fresh database, then times `all_findings`
(every rule, no filter) cold and warm. Target: within 10 s for 1M events.

    .venv/bin/python -m bench.findings --events 1000000 [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime

from app.domain.policy import DEFAULT_POLICY
from app.ops.bulk_import import import_file
from app.service.findings import all_findings
from app.store.db import create_pool
from app.store.findings import FindingFilter
from bench.bulk import export_file
from bench.common import Databases, log, server_url


async def run(n_events: int, seed: int, explicit_url: str | None) -> dict[str, float]:
    server, where = await server_url(explicit_url)
    path, stats = export_file(seed, n_events)
    databases = Databases(server)
    url = await databases.create("findings")
    pool = await create_pool(url, min_size=2, max_size=4)
    try:
        t = time.perf_counter()
        summary = await import_file(pool, path, policy=DEFAULT_POLICY)
        imported = time.perf_counter() - t
        log(f"imported {summary.text()} on {where}")
        f = FindingFilter(today=datetime.now(UTC).date())
        timings = []
        for _ in range(3):
            t = time.perf_counter()
            async with pool.acquire() as conn:
                rows = await all_findings(conn, f)
            timings.append(time.perf_counter() - t)
        return {
            "events": stats["events"],
            "import_s": imported,
            "findings": len(rows),
            "first_s": timings[0],
            "best_s": min(timings),
        }
    finally:
        await pool.close()
        await databases.drop_all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    result = asyncio.run(run(args.events, args.seed, args.database_url))
    print(" ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
