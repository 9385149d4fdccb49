"""Issue 12, item 6: what signed checkpoints cost.

1. appends: `bench.appends.store` (8 writers, existing cases) with and without a
   checkpoint signed every second by a concurrent signer (its own pool, as the
   service's interval signer runs), alternated A B A B so drift hits both alike.
   Target: with >= 0.95 x without.
2. verify: N events (generated case histories with valid hash chains, COPYed in), one
   checkpoint over them, then `verify-checkpoints` (tree part: every hash recomputed from
   content, both trees, the diff) against a plain server-side cursor read of the same
   rows in the same order. Target: verify >= 0.5 x the read's events/s, and bounded
   memory (peak RSS of each phase, reset before it, is printed).

Run: `.venv/bin/python -m bench.checkpoints [--events N] [--seconds S] [--repeats R]`.
To put it in the suite: call `appends_ratio` and `verify_ratio` from a `_checkpoints`
step in bench/suite.py and add two Figures (ratios, targets 0.95 and 0.5).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from app.domain.policy import DEFAULT_POLICY
from app.ops.checkpoint import checkpoint_once, signer_from_key_file
from app.ops.verify_checkpoints import verify_checkpoints
from app.service.checkpoint_keys import load_verifier_key_file
from app.service.checkpointing import Signer
from app.store.db import create_pool
from bench import appends
from bench.checkpoint_data import load_events
from bench.common import Databases, median, server_url

ORIGIN = "bench.caseledger/ledger"


@contextlib.asynccontextmanager
async def signing_every(url: str, signer: Signer, interval: float) -> AsyncIterator[list[float]]:
    """A concurrent signer; yields the list of each round's duration."""
    pool = await create_pool(url, min_size=1, max_size=2)
    rounds: list[float] = []

    async def loop() -> None:
        while True:
            started = time.perf_counter()
            await checkpoint_once(pool, DEFAULT_POLICY, "default", signer)
            rounds.append(time.perf_counter() - started)
            await asyncio.sleep(max(0.0, interval - rounds[-1]))

    task = asyncio.create_task(loop())
    try:
        yield rounds
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await pool.close()


async def appends_ratio(databases: Databases, seconds: float, repeats: int, folder: Path) -> dict[str, Any]:
    plain, signed, rounds = [], [], []
    for repeat in range(repeats):
        url = await databases.create(f"ckpa{repeat}")
        plain.append((await appends.store(url, 8, seconds, new_cases=False, seed=repeat))["rate"])
        await databases.drop(url)
        url = await databases.create(f"ckpb{repeat}")
        signer = signer_from_key_file(folder / "bench.key", folder / f"out-{repeat}", ORIGIN)
        async with signing_every(url, signer, 1.0) as durations:
            signed.append((await appends.store(url, 8, seconds, new_cases=False, seed=repeat))["rate"])
        rounds += durations
        await databases.drop(url)
    return {
        "without": median(plain),
        "with": median(signed),
        "ratio": median(signed) / median(plain),
        "repeats": {"without": plain, "with": signed},
        "checkpoints_signed": len(rounds),
        "checkpoint_round_ms_median": 1000 * median(rounds) if rounds else None,
    }


def _reset_peak_rss() -> None:
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def _cursor_read(pool: Any) -> int:
    rows = 0
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        cursor = await conn.cursor(
            "SELECT position, case_id, version, event_id, type, schema_version, data, metadata,"
            " recorded_at, hash FROM events ORDER BY position"
        )
        while batch := await cursor.fetch(5000):
            rows += len(batch)
    return rows


async def _timed(label: str, work: Any) -> tuple[Any, float, float]:
    _reset_peak_rss()
    started = time.perf_counter()
    result = await work
    seconds = time.perf_counter() - started
    peak = _peak_rss_mib()
    print(f"  {label}: {seconds:.2f} s, peak RSS {peak:.0f} MiB", flush=True)
    return result, seconds, peak


async def verify_ratio(databases: Databases, events: int, repeats: int, folder: Path) -> dict[str, Any]:
    url = await databases.create("ckpv")
    pool = await create_pool(url, min_size=2, max_size=4, statement_timeout_ms=0)
    try:
        _, load_s, _ = await _timed(f"load {events} events", load_events(url, events))
        signer = signer_from_key_file(folder / "verify.key", folder / "verify-out", ORIGIN)
        _, first_s, _ = await _timed(
            "first checkpoint", checkpoint_once(pool, DEFAULT_POLICY, "default", signer)
        )
        verifier = load_verifier_key_file(folder / "verify.key.pub")
        reads, verifies, peaks = [], [], []
        for _ in range(repeats):
            rows, read_s, read_peak = await _timed("cursor read", _cursor_read(pool))
            check = verify_checkpoints(pool, signer.out_dir, verifier, DEFAULT_POLICY, read_models=False)
            report, verify_s, verify_peak = await _timed("verify --checkpoints", check)
            assert rows == events and report.ok and report.events == events, report.text()
            reads.append(events / read_s)
            verifies.append(events / verify_s)
            peaks.append((read_peak, verify_peak))
    finally:
        await pool.close()
        await databases.drop(url)
    return {
        "events": events,
        "load_seconds": load_s,
        "first_checkpoint_seconds": first_s,
        "cursor_read_events_per_s": median(reads),
        "verify_events_per_s": median(verifies),
        "ratio": median(verifies) / median(reads),
        "peak_rss_mib": peaks,
    }


async def main(args: argparse.Namespace) -> None:
    server, where = await server_url(args.database_url)
    print(f"server: {where}", flush=True)
    databases = Databases(server)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            if "appends" in args.only:
                result = await appends_ratio(databases, args.seconds, args.repeats, Path(tmp))
                print(
                    f"appends/s without {result['without']:.0f}, with a checkpoint every second "
                    f"{result['with']:.0f}: ratio {result['ratio']:.3f} (target >= 0.95); {result}",
                    flush=True,
                )
            if "verify" in args.only:
                result = await verify_ratio(databases, args.events, args.repeats, Path(tmp))
                print(
                    f"verify {result['verify_events_per_s']:.0f} events/s vs cursor read "
                    f"{result['cursor_read_events_per_s']:.0f}: ratio {result['ratio']:.3f}"
                    f" (target >= 0.5); {result}",
                    flush=True,
                )
        finally:
            await databases.drop_all()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", nargs="+", default=["appends", "verify"], choices=["appends", "verify"])
    parser.add_argument("--database-url", default=None)
    asyncio.run(main(parser.parse_args()))
