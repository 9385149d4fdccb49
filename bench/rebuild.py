"""Benchmark 4: rebuild both read models from the log, in a process of its own.

The parent starts `python -m bench.rebuild MODE URL`; the child reports its own
peak RSS (VmHWM of /proc/self/status: interpreter, imports and all; it imports
only what `caseledger rebuild` would, no other bench module). The parent also
reaps it with os.wait4, but that ru_maxrss includes the parent's own
high-water mark at the spawn, so it is only kept beside it. Modes:
- rebuild: app.rebuild.rebuild(pool, policy, workers=2) over every event in the
  database, as `caseledger rebuild` runs by default here: this process replays
  one range of cases and a spawned process the other. The peak RSS reported is
  the SUM of both processes' VmHWM (`rebuild_peak_rss_kb` is this one's alone);
  `cpu_s` from wait4 includes the spawned process (reaped by this one);
- read: the limits beside it: a plain cursor over every event in position
  order (rows decoded by asyncpg, nothing else), and store.iter_all_streams
  (StoredEvent objects, whole streams in case order), both with nothing built.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Any

from app.settings import REPO_ROOT

WORKERS = 2  # `caseledger rebuild`'s default on this 2-core machine


def rebuild_available() -> str | None:
    try:
        module = importlib.import_module("app.ops.rebuild")
    except ImportError as exc:
        return f"app.ops.rebuild is not importable ({exc})"
    return None if hasattr(module, "rebuild") else "app.ops.rebuild has no rebuild"


def run_child(mode: str, url: str) -> dict[str, Any]:
    """Run one child and return what it printed, with its peak RSS from wait4."""
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench.rebuild", mode, url],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=errors,
            stdin=subprocess.DEVNULL,
        )
        t = time.perf_counter()
        out = proc.stdout.read()  # type: ignore[union-attr]
        _, status, usage = os.wait4(proc.pid, 0)
        errors.seek(0)
        err = errors.read()
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t
    if proc.returncode != 0 or not out.strip():
        raise RuntimeError(f"bench.rebuild {mode} failed ({proc.returncode}): {err.decode()[-2000:]}")
    result = json.loads(out.decode().strip().splitlines()[-1])
    # ru_maxrss of a child also counts the parent's high-water mark at the moment of the
    # spawn (Linux keeps the pre-exec maximum), so the child's own VmHWM is the figure;
    # ru_maxrss is kept beside it.
    result["ru_maxrss_mb"] = usage.ru_maxrss / 1024  # kilobytes on Linux
    result["peak_rss_mb"] = result.pop("vm_hwm_kb", usage.ru_maxrss) / 1024
    result["process_wall_s"] = wall
    result["cpu_s"] = usage.ru_utime + usage.ru_stime
    return result


async def _child(mode: str, url: str) -> dict[str, Any]:
    from app.domain.policy import DEFAULT_POLICY
    from app.store.db import create_pool

    pool = await create_pool(url, min_size=1, max_size=4, statement_timeout_ms=3_600_000)
    try:
        async with pool.acquire() as conn:
            events = int(await conn.fetchval("SELECT count(*) FROM events"))
        if mode == "rebuild":
            from app.ops.rebuild import rebuild

            t = time.perf_counter()
            report = await rebuild(pool, DEFAULT_POLICY, workers=WORKERS, url=url)
            seconds = time.perf_counter() - t
            return {
                "events": events,
                "seconds": seconds,
                "rate": events / seconds,
                "workers": WORKERS,
                "worker_peak_rss_kb": sum(getattr(report, "worker_peak_rss_kb", [])),
                "report": plain_json(report),
            }
        return {"events": events, **await _reads(pool)}
    finally:
        await pool.close()


async def _reads(pool: Any) -> dict[str, Any]:
    from app.store import streams as store
    from app.store.streams import EVENT_COLUMNS

    out: dict[str, Any] = {}
    async with pool.acquire() as conn, conn.transaction():
        t, n = time.perf_counter(), 0
        async for _row in conn.cursor(f"SELECT {EVENT_COLUMNS} FROM events ORDER BY position", prefetch=5000):
            n += 1
        out["cursor_rows_per_s"] = n / (time.perf_counter() - t)
    async with pool.acquire() as conn, conn.transaction():
        t, n = time.perf_counter(), 0
        async for batch in store.iter_all_streams(conn):
            n += len(batch)
        out["iter_all_streams_rows_per_s"] = n / (time.perf_counter() - t)
    return out


def plain_json(value: Any) -> Any:
    """A report or summary as JSON values (here, as the rebuild's child imports nothing of bench
    but this module; bench.bulk uses it too)."""
    if value is None or isinstance(value, int | float | str | bool):
        return value
    if isinstance(value, dict):
        return {str(k): plain_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_json(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return {f: plain_json(getattr(value, f)) for f in value.__dataclass_fields__}
    return str(value)


def _vm_hwm_kb() -> int | None:
    """This process's own peak RSS (its address space's high-water mark), in kB."""
    try:
        for line in open("/proc/self/status"):  # noqa: SIM115
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


if __name__ == "__main__":
    import uvloop

    uvloop.install()
    result = asyncio.run(_child(sys.argv[1], sys.argv[2]))
    hwm = _vm_hwm_kb()
    if hwm is not None:
        result["rebuild_peak_rss_kb"] = hwm
        result["vm_hwm_kb"] = hwm + result.get("worker_peak_rss_kb", 0)
    print(json.dumps(result), flush=True)
