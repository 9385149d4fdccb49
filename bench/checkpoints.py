"""Issue 12, item 6: what signed checkpoints cost (a step of `python3 dev.py bench`).

1. appends: `bench.appends` store appends (8 writers, existing cases) with and without a
   checkpoint signed every second by a concurrent signer (its own pool, in this process's
   event loop, as the service's interval signer runs in a worker's). Both kinds of
   window run in the same database, alternating A B B A ... so that the database's growth
   and the machine's drift hit both alike; before every window one untimed round takes in
   what the window before appended. Target: with >= 0.95 x without.
2. verify: one checkpoint over N events, then `verify_checkpoints` (the tree part:
   signatures, every hash recomputed from content, both trees, the merge; not the read
   models' fold) against a plain server-side cursor read of the same rows in the same
   order, as the service's pool decodes them; each in a fresh process, as the CLI runs.
   Target: verify >= 0.5 x the read's events/s, in bounded memory (each process's peak RSS).

Alone: `.venv/bin/python -m bench.checkpoints [--events N] [--seconds S] [--repeats R]`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from app.domain.policy import DEFAULT_POLICY
from app.ops.checkpoint import checkpoint_once, signer_from_key_file
from app.service.append import AppendHandler
from app.service.checkpointing import Signer
from app.store.db import create_pool
from bench import appends
from bench.checkpoint_data import load_events
from bench.common import Databases, check_stop, log, median, server_url
from bench.verify_child import run_child

ORIGIN = "bench.caseledger/ledger"
WRITERS = 8
INTERVAL = 1.0


@contextlib.asynccontextmanager
async def signing_every(pool: Any, signer: Signer, interval: float) -> AsyncIterator[list[float]]:
    """A concurrent signer; yields the list of each round's duration (seconds)."""
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


async def appends_ratio(
    databases: Databases, *, seconds: float, repeats: int, folder: Path, cases_per_writer: int
) -> dict[str, Any]:
    """Per repeat `seconds` of appends without and `seconds` with the signer, in half-length
    windows A B B A (a drift within the repeat hits both sides alike)."""
    url = await databases.create("ckpa")
    pool = await create_pool(url, min_size=WRITERS, max_size=WRITERS + 2)
    signer_pool = await create_pool(url, min_size=1, max_size=2)
    signer = signer_from_key_file(folder / "appends.key", folder / "appends-out", ORIGIN)
    runs: dict[str, list[dict[str, Any]]] = {"without": [], "with": []}
    durations: list[float] = []
    try:
        step = await appends.existing_case_steps(
            AppendHandler(pool, DEFAULT_POLICY), WRITERS, cases_per_writer, 7, "ckp"
        )
        for repeat in range(repeats):
            check_stop()
            windows: dict[str, list[tuple[int, float, Any]]] = {"without": [], "with": []}
            for kind in ("without", "with", "with", "without"):
                # Before every window, one untimed round takes in what the one before appended
                # (the same pause before both kinds of window).
                await checkpoint_once(signer_pool, DEFAULT_POLICY, "default", signer)
                if kind == "without":
                    windows[kind].append(await appends.timed_writers(WRITERS, step, seconds / 2))
                    continue
                async with signing_every(signer_pool, signer, INTERVAL) as rounds:
                    windows[kind].append(await appends.timed_writers(WRITERS, step, seconds / 2))
                durations += rounds
            for kind, timed in windows.items():
                runs[kind].append(appends.summed(timed))
            log(
                f"  checkpoints, appends repeat {repeat + 1}: without {runs['without'][-1]['rate']:,.0f}/s, "
                f"with a checkpoint every second {runs['with'][-1]['rate']:,.0f}/s"
            )
    finally:
        await signer_pool.close()
        await pool.close()
        await databases.drop(url)
    return {
        **runs,
        "checkpoints_signed": len(durations),
        "round_ms_median": round(1000 * median(durations), 1) if durations else None,
        "round_ms_max": round(1000 * max(durations), 1) if durations else None,
    }


async def verify_ratio(
    databases: Databases, *, events: int, repeats: int, folder: Path, url: str | None = None
) -> dict[str, Any]:
    """On `url`'s events when given (the bulk benchmark's import), else on `events` loaded
    here. Each repeat: the plain cursor read, then verify, each in a fresh child process."""
    own = url is None
    if url is None:
        url = await databases.create("ckpv")
        await load_events(url, events)
    pool = await create_pool(url, min_size=1, max_size=2, statement_timeout_ms=0)
    try:
        signer = signer_from_key_file(folder / "verify.key", folder / "verify-out", ORIGIN)
        started = time.perf_counter()
        await checkpoint_once(pool, DEFAULT_POLICY, "default", signer)
        first_s = time.perf_counter() - started
        runs = []
        for repeat in range(repeats):
            check_stop()
            read = await asyncio.to_thread(run_child, "cursor", url)
            verify = await asyncio.to_thread(run_child, "verify", url, str(signer.out_dir))
            held = await asyncio.to_thread(run_child, "cursor-held", url)
            if verify["rows"] != read["rows"]:
                raise RuntimeError(f"verify checked {verify['rows']} events of {read['rows']}")
            runs.append({"cursor": read, "verify": verify, "cursor_held": held})
            log(
                f"  checkpoints, verify repeat {repeat + 1}: {verify['rate']:,.0f} events/s, "
                f"cursor {read['rate']:,.0f} rows/s ({held['rate']:,.0f} with the collector held); "
                f"peak RSS {verify['peak_rss_mib']:.0f} MiB, the cursor's {read['peak_rss_mib']:.0f} MiB"
            )
    finally:
        await pool.close()
        if own:
            await databases.drop(url)
    return {"runs": runs, "first_checkpoint_seconds": round(first_s, 2)}


def ratios(pairs: list[tuple[float, float]]) -> float:
    return statistics.median(a / b for a, b in pairs)


async def main(args: argparse.Namespace) -> None:
    server, where = await server_url(args.database_url)
    print(f"server: {where}", flush=True)
    databases = Databases(server)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            if "appends" in args.only:
                out = await appends_ratio(
                    databases,
                    seconds=args.seconds,
                    repeats=args.repeats,
                    folder=Path(tmp),
                    cases_per_writer=appends.CASES_PER_WRITER,
                )
                pairs = [(w["rate"], o["rate"]) for w, o in zip(out["with"], out["without"], strict=True)]
                print(
                    f"appends with / without a checkpoint every second: {ratios(pairs):.3f} (target >= 0.95)"
                )
            if "verify" in args.only:
                out = await verify_ratio(
                    databases, events=args.events, repeats=args.repeats, folder=Path(tmp)
                )
                pairs = [(r["verify"]["rate"], r["cursor"]["rate"]) for r in out["runs"]]
                print(f"verify --checkpoints / cursor read: {ratios(pairs):.3f} (target >= 0.5)")
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
