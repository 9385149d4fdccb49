"""`.venv/bin/python -m bench.trees --against DIR`: this tree and another checkout, timed in pairs.

Two trees measured one after the other on a shared 2-core machine compare two
machines: the same tree's commands/s moved 1,050 -> 1,453 within 25 minutes.
Here both servers run at once (one worker each, each on its own database of the
same PostgreSQL) and the timed windows alternate A B B A (A this tree, B the
other), so each repeat's ratio A/B compares windows seconds apart and the ABBA
order cancels a steady drift. Each tree migrates its database, makes its API key
and bulk-imports the read export with its own code (`python -c` with cwd=tree,
this venv's Python, the tree's own bench helpers); the load itself (the
commands Workload, the closure-clock reads, the raw client) is this tree's for
both. Writes bench/out/trees.json; drops its databases at the end, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.settings import REPO_ROOT
from bench import bulk, reads
from bench.commands import CLIENTS, Workload
from bench.common import (
    OUT,
    STOP,
    Databases,
    Stopped,
    check_stop,
    find_postmaster,
    log,
    machine_facts,
    server_url,
)
from bench.httpload import run_load
from bench.server import Server

MIGRATE = "import asyncio; from bench.common import upgrade_to_head; asyncio.run(upgrade_to_head({url!r}))"
KEY = "import asyncio; from bench.server import make_key; print(asyncio.run(make_key({url!r})))"
IMPORT = (
    "import asyncio, json; from pathlib import Path; from bench.bulk import import_export; "
    "r = asyncio.run(import_export({url!r}, Path({path!r}), {expected!r})); "
    "print(json.dumps({{k: r[k] for k in ('events', 'seconds', 'rate', 'complete')}}))"
)

GUARDED = "app.web.connection_limits:GuardedHttpTools"


@dataclass
class Tree:
    """A checkout served as its own `caseledger serve` serves it (factory and protocol by layout)."""

    name: str
    root: Path
    factory: str | None = None  # e.g. bench.server_variants:without_access_record
    servers: list[Server] = field(default_factory=list)

    @property
    def serving(self) -> tuple[str, str]:
        """(app factory, uvicorn protocol): the layout before the redesign had app.main, httptools."""
        web = self.root / "app" / "web"
        own = "app.web.app:create_app" if (web / "app.py").exists() else "app.main:create_app"
        return self.factory or own, GUARDED if (web / "connection_limits.py").exists() else "httptools"

    def describe(self) -> dict[str, Any]:
        rev = subprocess.run(
            ["git", "-C", str(self.root), "describe", "--always", "--dirty"], capture_output=True, text=True
        )
        return {"root": str(self.root), "commit": rev.stdout.strip(), "serving": self.serving}

    def server(self, url: str) -> Server:
        factory, http = self.serving
        return Server(url, 1, f"server-trees-{self.name}", factory, self.root, http)

    async def call(self, code: str) -> str:
        """Runs `code` in this tree's own modules; its last line of output."""
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", code, cwd=self.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        try:
            out, err = await proc.communicate()
        except asyncio.CancelledError:
            proc.kill()
            raise
        if proc.returncode:
            raise RuntimeError(f"{self.name} tree: {code[:60]}... failed: {err.decode()[-1500:]}")
        return out.decode().strip().splitlines()[-1] if out.strip() else ""

    async def start(self, dbs: Databases, label: str) -> tuple[Server, str]:
        url = await dbs.create(f"trees_{label}_{self.name}", migrated=False)
        await self.call(MIGRATE.format(url=url))
        key = await self.call(KEY.format(url=url))
        server = self.server(url)
        self.servers.append(server)
        return await asyncio.to_thread(server.start), key


def rates(windows: list[dict[str, Any]], key: str = "rate") -> float:
    return sum(w[key] for w in windows)


async def abba(trees: list[Tree], window: Any, r: int) -> dict[str, Any]:
    """Windows A B B A; the repeat's ratio A/B of the summed rates (equal window lengths)."""
    out: dict[str, list[dict[str, Any]]] = {t.name: [] for t in trees}
    for i, t in enumerate((trees[0], trees[1], trees[1], trees[0])):
        check_stop()
        out[t.name].append(res := await window(t, r * 4 + i))
        cpu = res["cpu"]
        log(
            f"  {t.name}: {res['rate']:,.0f}/s, p99 {res['p99_ms']:.1f} ms, us/op server "
            f"{cpu['server_us_per_op']}, postgres {cpu['postgres_us_per_op']}; "
            f"load {cpu['load_before'][0]:.1f}"
        )
    a, b = (out[t.name] for t in trees)
    return {**out, "ratio": rates(a) / rates(b), "p99_ratio": rates(a, "p99_ms") / rates(b, "p99_ms")}


async def commands(trees: list[Tree], dbs: Databases, args: argparse.Namespace) -> list[dict[str, Any]]:
    started = {t.name: await t.start(dbs, "cmd") for t in trees}
    works: dict[str, Workload] = {}

    async def window(t: Tree, _: int) -> dict[str, Any]:
        (server, key), work = started[t.name], works[t.name]
        res = await run_load(
            "raw", server.host, server.port, key, CLIENTS, args.seconds, work.step,
            server_pids=server.worker_pids,
        )  # fmt: skip
        return {**res.summary(), "errors": list(work.errors)}

    runs = []
    for r in range(args.repeats):
        log(f"commands repeat {r + 1}/{args.repeats}: {CLIENTS * args.cases_per_client} new cases each")
        works.update({t.name: Workload(CLIENTS, args.cases_per_client, seed=r) for t in trees})
        for t in trees:
            server, key = started[t.name]
            await works[t.name].preload(server.host, server.port, key)
        runs.append(await abba(trees, window, r))
    for t in trees:
        for s in t.servers:
            s.stop()
    return runs


async def closure_reads(trees: list[Tree], dbs: Databases, args: argparse.Namespace) -> list[dict[str, Any]]:
    path, expected = bulk.export_file(43, args.read_cases, short=True)
    started = {}
    for t in trees:
        started[t.name] = await t.start(dbs, "reads")
        url = started[t.name][0].url
        loaded = json.loads(await t.call(IMPORT.format(url=url, path=str(path), expected=expected)))
        log(f"reads: {t.name} imported {loaded['events']:,} events at {loaded['rate']:,.0f}/s")
        if not loaded["complete"]:
            raise RuntimeError(f"{t.name} tree's import was incomplete: {loaded}")
    case_ids = [f"bc-43-{i:07d}" for i in range(expected["cases"])]

    async def window(t: Tree, seed: int, seconds: float = args.seconds) -> dict[str, Any]:
        server, key = started[t.name]
        return await reads.clock_reads(server, key, case_ids, kind="raw", seconds=seconds, seed=seed)

    for t in trees:  # an untimed warm-up each: both servers' caches and code paths
        await window(t, 1000, 2.0)
    runs = []
    for r in range(args.repeats):
        log(f"reads repeat {r + 1}/{args.repeats} over {expected['cases']:,} cases")
        runs.append(await abba(trees, window, r))
    return runs


def summary(runs: list[dict[str, Any]], trees: list[Tree]) -> dict[str, Any]:
    """Per tree the medians over every window; the median of the per-repeat ratios."""
    out: dict[str, Any] = {}
    for t in trees:
        ws = [w for run in runs for w in run[t.name]]
        out[t.name] = {
            k: round(statistics.median(get(w) for w in ws), 1)
            for k, get in (
                ("rate", lambda w: w["rate"]),
                ("p99_ms", lambda w: w["p99_ms"]),
                ("server_us_per_op", lambda w: w["cpu"]["server_us_per_op"]),
                ("postgres_us_per_op", lambda w: w["cpu"]["postgres_us_per_op"]),
            )
        }
    out["ratios"] = [round(run["ratio"], 3) for run in runs]
    out["ratio"] = round(statistics.median(out["ratios"]), 3)
    out["p99_ratio"] = round(statistics.median(run["p99_ratio"] for run in runs), 3)
    return out


def table(results: dict[str, Any]) -> str:
    rows = [f"{'figure':30} {'this tree':>10} {'other':>10} {'new/old':>8}  per repeat"]
    for name, label in (("commands", "commands/s, 16 clients"), ("reads", "clock reads/s, 32 clients")):
        s = results.get(name)
        if not s:
            continue
        a, b = s["new"], s["old"]
        rows.append(f"{label:30} {a['rate']:>10,.0f} {b['rate']:>10,.0f} {s['ratio']:>8.3f} {s['ratios']}")
        rows.append(f"{'  p99 ms':30} {a['p99_ms']:>10} {b['p99_ms']:>10} {s['p99_ratio']:>8.3f}")
        for k in ("server_us_per_op", "postgres_us_per_op"):
            rows.append(f"{'  ' + k:30} {a[k]:>10} {b[k]:>10} {a[k] / b[k]:>8.3f}")
    return "\n".join(rows)


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.trees", description=__doc__.split("\n\n")[0])
    p.add_argument("--against", type=Path, required=True, help="the other checkout (e.g. a git worktree)")
    p.add_argument("--only", default="commands,reads", help="commands, reads or both (default)")
    p.add_argument("--factory", help="this tree's app factory (default: its create_app)")
    p.add_argument("--database-url", help="PostgreSQL server, as for python -m bench")
    p.add_argument("--repeats", type=int, default=3, help="A B B A rounds (default 3)")
    p.add_argument("--seconds", type=float, default=8.0, help="each timed window (default 8)")
    p.add_argument("--cases-per-client", type=int, default=64, help="commands' cases per client")
    p.add_argument("--read-cases", type=int, default=100_000, help="cases behind the reads")
    return p.parse_args(argv)


async def main(args: argparse.Namespace) -> None:
    server, source = await server_url(args.database_url)
    await find_postmaster(server)
    trees = [Tree("new", REPO_ROOT, args.factory), Tree("old", args.against.resolve())]
    dbs = Databases(server)
    task = asyncio.current_task()
    assert task is not None

    def interrupt() -> None:
        log("interrupted: stopping the servers and dropping the databases")
        STOP["requested"] = True
        task.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, interrupt)
    results: dict[str, Any] = {
        "command": "python -m bench.trees " + " ".join(sys.argv[1:]),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "postgresql": source,
        "machine": machine_facts(),
        "trees": {t.name: t.describe() for t in trees},
        "args": {k: str(v) for k, v in vars(args).items()},
    }
    log(f"this tree {results['trees']['new']}, other {results['trees']['old']}")
    try:
        for name, bench in (("commands", commands), ("reads", closure_reads)):
            if name in args.only.split(","):
                log(f"--- {name}")
                runs = await bench(trees, dbs, args)
                results[name] = summary(runs, trees)
                results[f"{name}_runs"] = runs
    finally:
        for t in trees:
            for s in t.servers:
                s.stop()
        await dbs.drop_all()
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "trees.json").write_text(json.dumps(results, indent=2, default=str))
    print("\n" + table(results) + f"\n\nwritten: {OUT / 'trees.json'}")


if __name__ == "__main__":
    import uvloop

    uvloop.install()
    try:
        asyncio.run(main(parse_args(sys.argv[1:])))
    except (asyncio.CancelledError, KeyboardInterrupt, Stopped):
        log("interrupted; the run's databases were dropped")
        sys.exit(130)
