"""kill -9 of `caseledger serve` under load, then restart: nothing acknowledged is lost.

    .venv/bin/python -m faults.kill9 [--clients 16] [--seconds 30] [--kills 3] [--seed 6]
                                     [--server-url URL] [--keep]

1. A fresh database (on PostgreSQL at 127.0.0.1:5432 when one answers, else on a
   private embedded server in a temporary folder), a case_system key from
   `caseledger api-key create`, and `caseledger serve` as a subprocess on a free
   loopback port.
2. N clients append over HTTP, each to its own cases (CaseOpened, EmploymentStarted,
   then authorizations issued and paid) and all of them to one shared hot case, one
   event per request, each with a client-chosen event_id and a `load_id` in metadata.
   An append whose answer is lost (connection refused or reset, timeout, 5xx) is
   retried with the same event_id and content until it is acknowledged: a real client.
3. During the run the server is killed with SIGKILL `--kills` times and started again
   at once; restart-to-ready and kill-to-first-201 are measured.
4. Afterwards: every event acknowledged with 201 is stored with the version and
   position it was answered with (lost = 0); no logical append is stored twice
   (duplicated = 0); versions are 1..n; every hash chain verifies; each case's read
   models equal a fold of its stream; and `app.rebuild.rebuild` finds that the live
   read models equalled the log.

Exit status 0 when every check holds. Figures go to stdout (and --json FILE).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from app.domain.policy import DEFAULT_POLICY
from app.settings import REPO_ROOT
from app.store.db import connect, create_pool
from faults.common import Ledger, check_store, hash_chain_breaks, latency_summary, read_model_drift

EXTERNAL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


def say(message: str) -> None:
    print(f"kill9: {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def reachable(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex((host, port)) == 0


def with_database(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


class Server:
    """`caseledger serve` in a subprocess (python -m app.cli, so no install is needed)."""

    def __init__(self, url: str, port: int, log: Path) -> None:
        self.url, self.port, self.log = url, port, log
        self.proc: subprocess.Popen[bytes] | None = None
        self.env = dict(
            os.environ, DATABASE_URL=url, PYTHONPATH=str(REPO_ROOT), CASELEDGER_LOG_LEVEL="WARNING"
        )

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "app.cli",
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                ],
                cwd=REPO_ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def terminate(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    async def wait_ready(self, within: float = 60) -> float:
        started = time.monotonic()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.port}", timeout=2) as client:
            while time.monotonic() - started < within:
                assert self.proc is not None and self.proc.poll() is None, f"server exited; see {self.log}"
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get("/readyz")).status_code == 200:
                        return time.monotonic() - started
                await asyncio.sleep(0.05)
        raise TimeoutError(f"server not ready in {within} s; see {self.log}")

    def create_key(self, role: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "app.cli", "api-key", "create", "--role", role],
            cwd=REPO_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return done.stdout.strip().splitlines()[-1]


@dataclass
class Run:
    ledger: Ledger = field(default_factory=Ledger)
    case_ids: set[str] = field(default_factory=set)
    requests: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    lost_answers: int = 0  # appends whose answer never came (killed under them), retried
    recovered_by_retry: int = 0  # ... whose retry found them committed (idempotent replay)
    refused: list[str] = field(default_factory=list)  # unexpected 4xx
    latencies: list[float] = field(default_factory=list)
    first_201_after: dict[int, float] = field(default_factory=dict)  # kill number -> time
    kills_at: list[float] = field(default_factory=list)
    accepting: bool = True

    def count(self, key: str) -> None:
        self.statuses[key] = self.statuses.get(key, 0) + 1


def events_for(n: int) -> dict[str, Any]:
    """The n-th event of a client's case (0: opened, 1: employed, then issue/pay pairs)."""
    if n == 0:
        return {
            "type": "CaseOpened",
            "data": {
                "opened_on": "2024-01-02",
                "supported_employment": False,
                "ipe_service_categories": ["job_coaching"],
            },
        }
    if n == 1:
        return {
            "type": "EmploymentStarted",
            "data": {
                "job_id": "j1",
                "start_date": "2024-02-01",
                "employer": "Acme Foods",
                "soc_code": "35-2014",
                "hours_per_week": 30,
                "hourly_wage": "15.50",
            },
        }
    k = (n - 2) // 2
    if n % 2 == 0:
        return {
            "type": "AuthorizationIssued",
            "data": {
                "authorization_id": f"a-{k}",
                "provider_id": "prov-1",
                "service_category": "job_coaching",
                "start_date": "2024-02-05",
                "end_date": f"2024-{3 + k % 9:02d}-15",
                "amount": "250.00",
            },
        }
    return {
        "type": "AuthorizationPaid",
        "data": {
            "authorization_id": f"a-{k}",
            "payment_date": f"2024-{3 + k % 9:02d}-20",
            "amount": "250.00",
            "paid_in_full": True,
        },
    }


async def append_until_acknowledged(
    client: httpx.AsyncClient, run: Run, case_id: str, event: dict[str, Any], deadline: float
) -> None:
    event = {**event, "event_id": str(uuid.uuid4()), "metadata": {"load_id": uuid.uuid4().hex}}
    answered_lost = False
    while time.monotonic() < deadline:
        sent = time.monotonic()
        run.requests += 1
        try:
            r = await client.post(f"/cases/{case_id}/events", json={"events": [event]})
        except httpx.HTTPError as exc:
            run.count(type(exc).__name__)
            answered_lost = True
            await asyncio.sleep(0.1)
            continue
        run.count(str(r.status_code))
        if r.status_code == 201:
            run.latencies.append(time.monotonic() - sent)
            body = r.json()
            run.ledger.record(body, [event["metadata"]["load_id"]])
            run.case_ids.add(case_id)
            if answered_lost:
                run.lost_answers += 1
                run.recovered_by_retry += bool(body.get("idempotent_replay"))
            kills = len(run.kills_at)  # the first answer to a request sent after the last kill
            if kills and sent > run.kills_at[-1] and kills not in run.first_201_after:
                run.first_201_after[kills] = time.monotonic()
            return
        if r.status_code >= 500:
            answered_lost = True
            await asyncio.sleep(0.1)
            continue
        run.refused.append(f"{r.status_code} {r.text[:200]}")
        return
    raise TimeoutError(f"append to {case_id} never acknowledged")


async def client_loop(
    c: int, base_url: str, key: str, run: Run, hot_case: str, tag: str, grace_deadline: float
) -> None:
    async with httpx.AsyncClient(
        base_url=base_url, timeout=5, headers={"Authorization": f"Bearer {key}"}
    ) as client:
        case_no, n = 0, 0
        while run.accepting:
            case_id = f"k9-{tag}-{c}-{case_no}"
            await append_until_acknowledged(client, run, case_id, events_for(n), grace_deadline)
            n += 1
            if n == 20:
                case_no, n = case_no + 1, 0
            if n % 5 == 0:
                hot = {
                    "type": "IPEAmended",
                    "data": {"amended_on": "2024-01-03", "service_categories_added": [f"s-{c}"]},
                }
                await append_until_acknowledged(client, run, hot_case, hot, grace_deadline)


async def main(args: argparse.Namespace) -> int:
    rng = random.Random(args.seed)
    workdir = Path(tempfile.mkdtemp(prefix="caseledger-kill9-"))
    private = None
    server_url = args.server_url
    if server_url is None:
        if reachable("127.0.0.1", 5432):
            server_url = EXTERNAL
        else:
            from faults.pgcontrol import PrivatePostgres

            private = PrivatePostgres(workdir / "pg", database="postgres")
            await private.start()
            server_url = private.url
    name = f"caseledger_kill9_{uuid.uuid4().hex[:10]}"
    admin = await connect(server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = with_database(server_url, name)
    server = Server(url, free_port(), workdir / "server.log")
    say(f"database {name}; server log {server.log}")
    ok = False
    try:
        server.start()
        first_ready = await server.wait_ready()
        key = await asyncio.to_thread(server.create_key, "case_system")
        run, tag = Run(), uuid.uuid4().hex[:6]
        hot_case = f"k9-{tag}-hot"
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{server.port}", timeout=10, headers={"Authorization": f"Bearer {key}"}
        ) as client:
            await append_until_acknowledged(client, run, hot_case, events_for(0), time.monotonic() + 60)
        started = time.monotonic()
        grace_deadline = started + args.seconds + 120
        base_url = f"http://127.0.0.1:{server.port}"
        clients = [
            asyncio.create_task(client_loop(c, base_url, key, run, hot_case, tag, grace_deadline))
            for c in range(args.clients)
        ]
        restarts = []
        slots = [args.seconds * (k + 1) / (args.kills + 1) for k in range(args.kills)]
        for at in slots:
            await asyncio.sleep(max(0.0, started + at + rng.uniform(-0.5, 0.5) - time.monotonic()))
            killed_at = time.monotonic()
            server.kill9()
            run.kills_at.append(killed_at)
            server.start()
            ready = await server.wait_ready()
            restarts.append({"at_s": round(killed_at - started, 2), "restart_to_ready_s": round(ready, 2)})
            say(f"kill -9 at {killed_at - started:.1f} s; ready again {ready:.2f} s later")
        await asyncio.sleep(max(0.0, started + args.seconds - time.monotonic()))
        run.accepting = False
        await asyncio.gather(*clients)
        elapsed = time.monotonic() - started
        for k, restart in enumerate(restarts, start=1):
            first = run.first_201_after.get(k)
            restart["kill_to_first_201_s"] = round(first - run.kills_at[k - 1], 2) if first else None
        server.terminate()

        conn = await connect(url)
        try:
            stored = await check_store(conn, run.ledger, run.case_ids)
            breaks = await hash_chain_breaks(conn, run.case_ids)
            drift = await read_model_drift(conn, run.case_ids, DEFAULT_POLICY)
        finally:
            await conn.close()
        rebuild_equal: bool | None = None
        rebuild_text = "app.ops.rebuild not available"
        with contextlib.suppress(ImportError):
            from app.ops.rebuild import rebuild

            pool = await create_pool(url, min_size=1, max_size=3, statement_timeout_ms=600_000)
            try:
                report = await rebuild(pool, DEFAULT_POLICY)
            finally:
                await pool.close()
            rebuild_equal, rebuild_text = report.equal, report.text()

        figures = {
            "clients": args.clients,
            "seconds": round(elapsed, 1),
            "kills": args.kills,
            "requests": run.requests,
            "acknowledged": stored.acknowledged,
            "stored": stored.stored,
            "lost": len(stored.lost),
            "duplicated": len(stored.duplicated),
            "version_gaps": len(stored.gaps),
            "answers_lost_to_kills_then_retried": run.lost_answers,
            "of_which_already_committed": run.recovered_by_retry,
            "unexpected_refusals": len(run.refused),
            "hash_chain_breaks": len(breaks),
            "read_model_drift_cases": len(drift),
            "rebuild_equal": rebuild_equal,
            "cases": len(run.case_ids),
            "statuses": dict(sorted(run.statuses.items())),
            "first_start_to_ready_s": round(first_ready, 2),
            "restarts": restarts,
            "append_latency_201": latency_summary(run.latencies),
            "acknowledged_per_s": round(stored.acknowledged / elapsed, 1),
            "database": "PostgreSQL at 127.0.0.1:5432" if server_url == EXTERNAL else server_url,
        }
        print(json.dumps(figures, indent=2))
        say(rebuild_text)
        if run.refused:
            say(f"unexpected refusals, e.g. {run.refused[:3]}")
        if args.json:
            await asyncio.to_thread(Path(args.json).write_text, json.dumps(figures, indent=2) + "\n")
        ok = (
            stored.ok
            and not breaks
            and not drift
            and not run.refused
            and rebuild_equal is not False
            and stored.acknowledged > 0
        )
        say("every check holds" if ok else "A CHECK FAILED")
    finally:
        server.terminate()
        if not args.keep:
            admin = await connect(server_url)
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()
        if private is not None:
            await asyncio.to_thread(private.close)
    return 0 if ok else 1


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m faults.kill9", description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--server-url", help="PostgreSQL to create the database on (SQLAlchemy URL)")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse(sys.argv[1:]))))
