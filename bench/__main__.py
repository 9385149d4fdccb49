"""`python3 dev.py bench [--quick] [--only NAME] [--database-url URL]`: every benchmark in one run.

Prints a table of figures with their targets and ratios, and writes
bench/out/results.json (every repeat, CPU splits, load averages). See
docs/performance.md for what each figure measures and what bounds it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import time
import traceback
from typing import Any

from bench import report
from bench.common import (
    OUT,
    STOP,
    Databases,
    Stopped,
    find_postmaster,
    load_average,
    log,
    machine_facts,
    server_facts,
    server_url,
)
from bench.suite import NAMES, Suite


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python3 dev.py bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="small sizes, one repeat: a smoke run (~1 min)")
    p.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help=f"run only these (repeatable or comma-separated): {', '.join(NAMES)}",
    )
    p.add_argument(
        "--database-url",
        help="PostgreSQL server to use (an SQLAlchemy URL of any database "
        "on it); default 127.0.0.1:5432 if it answers, else the embedded one",
    )
    p.add_argument("--repeats", type=int, help="repeats of each timed figure (default 3, quick 1)")
    p.add_argument("--seconds", type=float, help="length of each timed window (default 10, quick 1)")
    p.add_argument("--events", type=int, help="events in the bulk-import export (default 1,000,000)")
    p.add_argument("--read-cases", type=int, help="cases behind the read benchmarks (default 100,000)")
    args = p.parse_args(argv)
    only = [n.strip() for item in args.only for n in item.split(",") if n.strip()]
    unknown = [n for n in only if n not in NAMES]
    if unknown:
        p.error(f"unknown benchmark {', '.join(unknown)}; one of {', '.join(NAMES)}")
    args.only = only or list(NAMES)
    return args


async def main(args: argparse.Namespace) -> int:
    started = time.time()
    server, source = await server_url(args.database_url)
    await find_postmaster(server)
    facts = {"machine": machine_facts(), "server": {"source": source, **await server_facts(server)}}
    log(
        f"PostgreSQL {facts['server']['postgresql']} ({source}); "
        f"{facts['machine']['nproc']} cores; load {load_average()}"
    )
    databases = Databases(server)
    suite = Suite(args, databases)
    main_task = asyncio.current_task()
    assert main_task is not None

    def interrupt() -> None:
        log("interrupted: stopping at the next repeat and dropping the databases")
        STOP["requested"] = True
        main_task.cancel()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, interrupt)
    try:
        for name in args.only:
            log(f"--- {name}")
            before = load_average()
            try:
                await suite.run(name)
            except Stopped:
                raise
            except Exception as exc:  # one broken benchmark must not lose the others
                suite.errors[name] = f"{type(exc).__name__}: {exc}"
                log(f"{name} failed: {suite.errors[name]}")
                traceback.print_exc()
            suite.loads[name] = {"before": before, "after": load_average()}
    finally:
        suite.stop_servers()
        await databases.drop_all()
    results = {
        "command": "python3 dev.py bench " + " ".join(sys.argv[1:]),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "duration_s": round(time.time() - started, 1),
        "quick": args.quick,
        **facts,
        "loads": suite.loads,
        "figures": [f.to_json() for f in suite.figures],
        "ratios": [r.__dict__ | {"met": r.met} for r in suite.ratios],
        "runs": suite.runs,
        "errors": suite.errors,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=2, default=str))
    (OUT / "results.md").write_text(report.markdown(json.loads(json.dumps(results, default=str))))
    print()
    print(report.table(suite.figures, suite.ratios, facts, results))
    print(f"\nwritten: {OUT / 'results.json'} and results.md")
    return 1 if suite.errors else 0


def run(argv: list[str]) -> int:
    import uvloop

    args = parse_args(argv)
    uvloop.install()
    try:
        return asyncio.run(main(args))
    except (asyncio.CancelledError, Stopped, KeyboardInterrupt):
        log("interrupted; the run's databases were dropped")
        return 130


def _main() -> Any:
    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":
    _main()
