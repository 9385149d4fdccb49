"""One phase of the checkpoint verify benchmark in a process of its own, as the CLI runs it.

`python -m bench.verify_child cursor URL` reads every event with a plain cursor (`cursor-held`:
the same with the garbage collector held back, as verify holds it back);
`python -m bench.verify_child verify URL DIR` runs `verify_checkpoints` (the tree part)
against the checkpoints in DIR (public key DIR/../verify.key.pub). Each prints one JSON
line: rows, seconds, and the peak RSS (VmHWM) of the process and of its hash workers
(summed: the memory the run needed), each phase in fresh processes, like `caseledger
verify --checkpoints`. Plain asyncio, as the CLI.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from app.settings import REPO_ROOT

CURSOR = (
    "SELECT position, case_id, version, event_id, type, schema_version, data, metadata,"
    " recorded_at, hash FROM events ORDER BY position"
)


def run_child(*args: str) -> dict[str, Any]:
    """Run one phase in a child process and return its JSON line."""
    with tempfile.TemporaryFile() as errors:
        done = subprocess.run(
            [sys.executable, "-m", "bench.verify_child", *args],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=errors,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        errors.seek(0)
        err = errors.read().decode()[-2000:]
    if done.returncode != 0 or not done.stdout.strip():
        raise RuntimeError(f"bench.verify_child {args[0]} failed ({done.returncode}): {err}")
    return dict(json.loads(done.stdout.decode().strip().splitlines()[-1]))


async def _cursor(pool: Any) -> int:
    """The plain read: every column of every event in position order, 5,000 rows a fetch."""
    rows = 0
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        cursor = await conn.cursor(CURSOR)
        while batch := await cursor.fetch(5000):
            rows += len(batch)
    return rows


async def _verify(pool: Any, folder: Path, url: str) -> tuple[int, list[int]]:
    from app.domain.policy import DEFAULT_POLICY
    from app.ops.verify_checkpoints import verify_checkpoints
    from app.service.checkpoint_keys import load_verifier_key_file

    verifier = load_verifier_key_file(folder.parent / "verify.key.pub")
    report = await verify_checkpoints(pool, folder, verifier, DEFAULT_POLICY, read_models=False, url=url)
    if not report.ok:
        raise RuntimeError(f"verify --checkpoints on an untouched log: {report.text()}")
    return report.events, report.worker_peak_rss_kb


async def _child(mode: str, url: str, folder: str | None) -> dict[str, Any]:
    from app.store.db import create_pool

    pool = await create_pool(url, min_size=1, max_size=2, statement_timeout_ms=0)
    try:
        if mode == "cursor-held":
            gc.freeze()
            gc.disable()
        started, cpu = time.perf_counter(), time.process_time()
        if mode == "verify":
            rows, workers_kb = await _verify(pool, Path(str(folder)), url)
        else:
            rows, workers_kb = await _cursor(pool), []
        seconds = time.perf_counter() - started
        return {
            "rows": rows,
            "seconds": seconds,
            "rate": rows / seconds,
            "cpu_s": time.process_time() - cpu,  # this process's; the hash workers' are apart
            "worker_peak_rss_mib": [round(kb / 1024, 1) for kb in workers_kb],
        }
    finally:
        await pool.close()


def _vm_hwm_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


if __name__ == "__main__":
    result = asyncio.run(_child(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None))
    result["main_peak_rss_mib"] = round(_vm_hwm_mib(), 1)
    result["peak_rss_mib"] = round(result["main_peak_rss_mib"] + sum(result["worker_peak_rss_mib"]), 1)
    result["pid"] = os.getpid()
    print(json.dumps(result), flush=True)
