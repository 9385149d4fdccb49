"""Benchmark 3: bulk import of a case-system export (NDJSON), against plain COPY of the same rows.

The export holds generated cases of 50-200 events each (bench/gen.py), one
line per event `{case_id, event_id, type, data, metadata}`, case after case.
- import: as `caseledger import` runs by default (`--workers 2`, batches of
  `DEFAULT_BATCH` lines: app.operations_workers.import_in_workers; with
  `workers=1`, app.bulk_import.import_file in this process) into a fresh,
  migrated database; then the events, the case heads and both read models
  (closure_clock, ledger_pba) are counted to check that everything was accepted
  and both read models are current. The worker processes' CPU is reported as
  `workers_us_per_op` (their PostgreSQL backends have exited when the window
  closes, so `postgres_us_per_op` misses theirs).
- COPY: the same file read and parsed the same way, its rows copied in
  1,000-row batches into a bare table (no index, no constraint, no trigger).
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import io
import json
import resource
import time
import uuid
from pathlib import Path
from typing import Any

import orjson

from app.domain.policy import DEFAULT_POLICY
from app.store.db import connect, create_pool
from bench import gen
from bench.common import OUT, CpuSplit, log
from bench.rebuild import plain_json

IMPORT_WORKERS = 2  # `caseledger import`'s default on this 2-core machine
BARE = """
CREATE TABLE bare_events (case_id text, event_id uuid, type text, data jsonb, metadata jsonb)
"""


def export_file(seed: int, n_events: int, *, short: bool = False) -> tuple[Path, dict[str, int]]:
    """The generated export, made once and kept in bench/out/ (a sidecar holds its counts)."""
    OUT.mkdir(parents=True, exist_ok=True)
    kind = "short" if short else "long"
    path = OUT / f"export-{kind}-{seed}-{n_events}.ndjson"
    stats_path = path.with_suffix(".json")
    source = Path(gen.__file__).stat().st_mtime
    if path.exists() and stats_path.exists() and path.stat().st_mtime > source:
        return path, json.loads(stats_path.read_text())
    t = time.perf_counter()
    stats = gen.write_ndjson(path, seed, n_events, short=short)
    stats_path.write_text(json.dumps(stats))
    log(
        f"generated {path.name}: {stats['events']} events, {stats['cases']} cases "
        f"in {time.perf_counter() - t:.1f} s"
    )
    return path, stats


def bulk_import_available() -> str | None:
    """None when app.bulk_import.import_file is there, else why not."""
    try:
        module = importlib.import_module("app.ops.bulk_import")
    except ImportError as exc:
        return f"app.ops.bulk_import is not importable ({exc})"
    if not hasattr(module, "import_file"):
        return "app.ops.bulk_import has no import_file"
    return None


async def copy_baseline(url: str, path: Path, batch: int = 1000) -> dict[str, Any]:
    conn = await connect(url)
    try:
        await conn.execute("DROP TABLE IF EXISTS bare_events")
        await conn.execute(BARE)
        columns = ("case_id", "event_id", "type", "data", "metadata")
        rows = 0
        with CpuSplit() as cpu, path.open("rb") as f:
            chunk: list[bytes] = []
            for line in f:
                e = orjson.loads(line)
                chunk.append(
                    b"\t".join(
                        (
                            e["case_id"].encode(),
                            e["event_id"].encode(),
                            e["type"].encode(),
                            _copy_text(e["data"]),
                            _copy_text(e["metadata"]),
                        )
                    )
                    + b"\n"
                )
                if len(chunk) == batch:
                    await _copy(conn, chunk, columns)
                    rows += len(chunk)
                    chunk = []
            if chunk:
                await _copy(conn, chunk, columns)
                rows += len(chunk)
    finally:
        await conn.close()
    return {"events": rows, "seconds": cpu.wall, "rate": rows / cpu.wall, "cpu": cpu.as_dict(rows)}


def _copy_text(value: Any) -> bytes:
    """A JSON value as a COPY text-format field (backslashes doubled; orjson escapes the rest)."""
    return orjson.dumps(value).replace(b"\\", b"\\\\")


async def _copy(conn: Any, chunk: list[bytes], columns: tuple[str, ...]) -> None:
    await conn.copy_to_table(
        "bare_events", source=io.BytesIO(b"".join(chunk)), columns=columns, format="text"
    )


async def import_export(
    url: str,
    path: Path,
    expected: dict[str, int],
    *,
    batch_size: int | None = None,
    workers: int = IMPORT_WORKERS,
) -> dict[str, Any]:
    from app.ops.bulk_import import DEFAULT_BATCH, import_file

    rejects = OUT / f"{path.stem}.rejects.ndjson"
    batch_size = batch_size or DEFAULT_BATCH
    pool = await create_pool(url, min_size=2, max_size=10, statement_timeout_ms=600_000)
    try:
        children = _children_cpu()
        with CpuSplit() as cpu:
            if workers > 1:
                from app.ops.workers import import_in_workers

                summary: Any = await asyncio.to_thread(
                    import_in_workers,
                    url,
                    path,
                    workers=workers,
                    batch_size=batch_size,
                    rejects_path=rejects,
                    policy=DEFAULT_POLICY,
                )
            else:
                summary = import_file(
                    pool, path, batch_size=batch_size, rejects_path=rejects, policy=DEFAULT_POLICY
                )
                if inspect.isawaitable(summary):
                    summary = await summary
        worker_cpu = _children_cpu() - children
        counts = await _counts(pool)
    finally:
        await pool.close()
    n = counts["events"]
    ok = (
        n == expected["events"]
        and counts["case_state"] == expected["cases"]
        and counts["closure_clock"] == expected["cases"]
    )
    if not ok:
        log(f"import incomplete: {counts} (expected {expected}); rejects in {rejects}")
    return {
        "events": n,
        "seconds": cpu.wall,
        "rate": n / cpu.wall,
        "cpu": {**cpu.as_dict(n), "workers_us_per_op": round(worker_cpu / n * 1e6, 1)},
        "workers": workers,
        "batch_size": batch_size,
        "counts": counts,
        "complete": ok,
        "summary": plain_json(summary),
    }


def _children_cpu() -> float:
    """CPU seconds of this process's children that have ended (the import workers)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def _counts(pool: Any) -> dict[str, int]:
    async with pool.acquire() as conn:
        return {
            t: int(await conn.fetchval(f"SELECT count(*) FROM {t}"))
            for t in ("events", "case_state", "closure_clock", "ledger_pba")
        }


async def load_cases_through_handler(url: str, path: Path, concurrency: int = 8) -> dict[str, Any]:
    """Fallback loader while app.bulk_import is missing: one AppendHandler.append per case."""
    from app.service.append import AppendHandler
    from app.service.keys import Principal
    from app.service.validate import Proposed

    principal = Principal("bench0loader", "case_system")
    pool = await create_pool(url, min_size=2, max_size=concurrency + 2)
    handler = AppendHandler(pool, DEFAULT_POLICY)
    queue: asyncio.Queue[tuple[str, list[Any]] | None] = asyncio.Queue(maxsize=concurrency * 4)

    async def worker() -> None:
        while (item := await queue.get()) is not None:
            case_id, lines = item
            await handler.append(
                principal,
                case_id,
                0,
                [Proposed(e["type"], e["data"], uuid.UUID(e["event_id"]), e["metadata"]) for e in lines],
            )

    events = 0
    with CpuSplit() as cpu:
        workers = [asyncio.create_task(worker()) for _ in range(concurrency)]
        current: list[Any] = []
        with path.open("rb") as f:
            for line in f:
                e = orjson.loads(line)
                if current and current[-1]["case_id"] != e["case_id"]:
                    await queue.put((current[0]["case_id"], current))
                    current = []
                current.append(e)
                events += 1
        if current:
            await queue.put((current[0]["case_id"], current))
        for _ in workers:
            await queue.put(None)
        await asyncio.gather(*workers)
    await pool.close()
    return {"events": events, "seconds": cpu.wall, "rate": events / cpu.wall}
