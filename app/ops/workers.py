"""`caseledger import --workers N`: one export, N processes, each with its share of the cases.

Python is the import's bottleneck (the schema check, deciders, folds and read
models cost about twice what PostgreSQL spends per event), so throughput grows
with cores: each worker process runs `import_file` on the cases whose case_id
hashes to it (so a case's lines stay in file order, in one worker), with its own
connections and reject file, and the parts are merged by line number at the end.
Batches of different workers never touch the same case, so they do not contend.
"""

from __future__ import annotations

import asyncio
import dataclasses
import heapq
import multiprocessing
import queue
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from app.domain.policy import PolicyTable
from app.ops.analyze import analyze_tables
from app.ops.bulk_import import BULK_STATEMENT_TIMEOUT_MS, ImportSummary, import_file
from app.ops.import_lines import Shard
from app.ops.policy_pack import Packed, pack_policy, unpack_policy
from app.service.master_key_file import master_key_of
from app.settings import get_settings

_POLL_SECONDS = 0.2


def import_in_workers(
    url: str,
    path: Path,
    *,
    workers: int,
    batch_size: int,
    rejects_path: Path,
    progress: Callable[[int], None] | None = None,
    policy: PolicyTable | None = None,
) -> ImportSummary:
    """Run `workers` processes; `progress` gets the bytes committed, summed over workers.

    `policy` defaults to the configured table (`CASELEDGER_POLICY_FILE`), as the service's.
    """
    packed = pack_policy(policy) if policy is not None else None
    master_key_of(get_settings())  # the default key file, made once here, before the workers read it
    ctx = multiprocessing.get_context("spawn")
    committed, results = ctx.Value("q", 0), ctx.Queue()
    parts = [rejects_path.with_name(f"{rejects_path.name}.part{i}") for i in range(workers)]
    started = time.perf_counter()
    processes = [
        ctx.Process(
            target=_worker,
            args=(url, path, batch_size, parts[i], Shard(i, workers), committed, results, packed),
        )
        for i in range(workers)
    ]
    for process in processes:
        process.start()
    answers = _wait(processes, results, committed, progress)
    summary = _merged(answers, rejects_path)
    _merge_rejects(parts, rejects_path)
    asyncio.run(_analyze(url))
    summary.seconds = time.perf_counter() - started
    return summary


def _wait(
    processes: list[Any],
    results: Any,
    committed: Any,
    progress: Callable[[int], None] | None,
) -> list[tuple[str, Any]]:
    answers: list[tuple[str, Any]] = []
    reported = 0
    while len(answers) < len(processes):
        try:
            answers.append(results.get(timeout=_POLL_SECONDS))
        except queue.Empty:
            if not any(p.is_alive() for p in processes) and results.empty():
                answers.append(("error", "a worker exited without a result"))
        if progress is not None and committed.value > reported:
            progress(committed.value - reported)
            reported = committed.value
    for process in processes:
        process.join()
    failed = [detail for status, detail in answers if status == "error"]
    if failed:
        raise RuntimeError(f"an import worker failed: {failed[0]}")
    return answers


def _merged(answers: list[tuple[str, Any]], rejects_path: Path) -> ImportSummary:
    summary = ImportSummary(rejects_path=rejects_path)
    for _, part in answers:
        summary.read += part["read"]
        summary.appended += part["appended"]
        summary.skipped += part["skipped"]
        summary.rejected += part["rejected"]
        for code, n in part["rejected_by_code"].items():
            summary.rejected_by_code[code] = summary.rejected_by_code.get(code, 0) + n
    return summary


def _merge_rejects(parts: list[Path], rejects_path: Path) -> None:
    """Each part is in line order already; so is their merge."""
    sources = [part.open("rb") for part in parts]
    try:
        with rejects_path.open("wb") as out:
            out.writelines(heapq.merge(*sources, key=lambda raw: orjson.loads(raw)["line"]))
    finally:
        for source in sources:
            source.close()
        for part in parts:
            part.unlink(missing_ok=True)


async def _analyze(url: str) -> None:
    """Once, when every worker is done (each worker leaves it out)."""
    from app.store.db import connect

    conn = await connect(url)
    try:
        await analyze_tables(conn)
    finally:
        await conn.close()


def _worker(
    url: str,
    path: Path,
    batch_size: int,
    rejects: Path,
    shard: Shard,
    committed: Any,
    results: Any,
    packed: Packed | None = None,
) -> None:
    try:
        table = unpack_policy(packed) if packed is not None else None
        summary = asyncio.run(_run(url, path, batch_size, rejects, shard, committed, table))
        results.put(("ok", dataclasses.asdict(summary)))
    except BaseException as exc:  # reported to the parent, which fails the whole import
        results.put(("error", f"worker {shard.index}: {type(exc).__name__}: {exc}"))


async def _run(
    url: str,
    path: Path,
    batch_size: int,
    rejects: Path,
    shard: Shard,
    committed: Any,
    table: PolicyTable | None,
) -> ImportSummary:
    from app.settings import get_settings
    from app.store.db import create_pool

    def advance(n: int) -> None:
        with committed.get_lock():
            committed.value += n

    pool = await create_pool(url, min_size=2, max_size=2, statement_timeout_ms=BULK_STATEMENT_TIMEOUT_MS)
    try:
        return await import_file(
            pool,
            path,
            batch_size=batch_size,
            rejects_path=rejects,
            policy=table if table is not None else get_settings().policy_table(),
            progress=advance,
            shard=shard,
            analyze=False,
            master_key=master_key_of(get_settings()),  # seals as the service does
        )
    finally:
        await pool.close()
