"""PostgreSQL stopped, crashed or hung under load, at scale, with timings.

    .venv/bin/python -m faults.database_down [--clients 32] [--modes fast,immediate,kill9,pause]
                                             [--warm 3] [--outage 5] [--after 5] [--json FILE]

`caseledger serve` runs as a subprocess on a loopback port against a private
embedded PostgreSQL (its own temporary data folder: the only server this may stop).
For each mode, N clients append (each to its own cases; an unanswered or 503 append
is retried with the same event_id) and read closure clocks for `--warm` seconds;
then the database goes away for `--outage` seconds:

- fast: PostgreSQL's fast shutdown (SIGINT): sessions are terminated, checkpoint;
- immediate: immediate shutdown (SIGQUIT): no checkpoint, crash recovery at start;
- kill9: SIGKILL of the postmaster: a crash;
- pause: SIGSTOP of every PostgreSQL process, then SIGCONT: a database that hangs
  with its connections open (what a network partition looks like).

(`--pause-outage`, 15 s, for pause: longer than the timeouts), then it comes
back, and the load goes on for `--after` seconds, all against the
same service process (never restarted). Reported per mode: requests, answers by
status, 503 latency during the outage, the time to the first 503, /readyz during
the outage, the time from the database's return to the first 201 and to /readyz
200; then lost and duplicated over every acknowledged append, and read-model drift.
Exit status 0 when there was no 500, no unanswered request, nothing lost or
duplicated, and every recovery happened.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from app.domain.policy import DEFAULT_POLICY
from app.store.db import connect
from faults.common import Ledger, check_store, latency_summary, percentile, read_model_drift
from faults.kill9 import Server, events_for, free_port
from faults.pgcontrol import PrivatePostgres


def say(message: str) -> None:
    print(f"database_down: {message}", file=sys.stderr, flush=True)


@dataclass(slots=True)
class Answer:
    sent: float
    done: float
    status: str  # HTTP status or the transport error's name
    kind: str
    code: str | None = None


@dataclass
class Phase:
    mode: str
    ledger: Ledger = field(default_factory=Ledger)
    answers: list[Answer] = field(default_factory=list)
    case_ids: set[str] = field(default_factory=set)
    running: bool = True


async def request(
    client: httpx.AsyncClient, phase: Phase, kind: str, method: str, path: str, **kw: Any
) -> tuple[Answer, httpx.Response | None]:
    sent = time.monotonic()
    try:
        r = await client.request(method, path, **kw)
    except httpx.HTTPError as exc:
        answer = Answer(sent, time.monotonic(), type(exc).__name__, kind)
        phase.answers.append(answer)
        return answer, None
    code = None
    if r.headers.get("content-type", "").startswith("application/problem+json"):
        code = r.json().get("code")
    answer = Answer(sent, time.monotonic(), str(r.status_code), kind, code)
    phase.answers.append(answer)
    return answer, r


async def client_loop(c: int, base_url: str, key: str, phase: Phase, tag: str) -> None:
    async with httpx.AsyncClient(
        base_url=base_url, timeout=30, headers={"Authorization": f"Bearer {key}"}
    ) as client:
        case_no, n = 0, 0
        while phase.running:
            case_id = f"dd-{tag}-{c}-{case_no}"
            event = {
                **events_for(n),
                "event_id": str(uuid.uuid4()),
                "metadata": {"load_id": uuid.uuid4().hex},
            }
            while True:  # the same append until it is acknowledged (or the run ends)
                answer, r = await request(
                    client, phase, "append", "POST", f"/cases/{case_id}/events", json={"events": [event]}
                )
                if r is not None and r.status_code == 201:
                    phase.ledger.record(r.json(), [event["metadata"]["load_id"]])
                    phase.case_ids.add(case_id)
                    n += 1
                    break
                if r is not None and r.status_code < 500:
                    raise AssertionError(f"refused: {r.status_code} {r.text[:300]}")
                if not phase.running and time.monotonic() - answer.sent > 60:
                    return
                await asyncio.sleep(0.1)
            if n == 20:
                case_no, n = case_no + 1, 0
            if n > 1:
                await request(client, phase, "read", "GET", f"/cases/{case_id}/closure-clock")
            await asyncio.sleep(0.005)


async def readyz_probe(base_url: str, phase: Phase) -> list[tuple[float, float, int | str]]:
    """(sent, seconds, status) of /readyz every 0.25 s while the phase runs."""
    seen = []
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        while phase.running:
            sent = time.monotonic()
            try:
                status: int | str = (await client.get("/readyz")).status_code
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            seen.append((sent, time.monotonic() - sent, status))
            await asyncio.sleep(0.25)
    return seen


async def one_mode(
    mode: str, args: argparse.Namespace, pg: PrivatePostgres, server: Server, key: str
) -> dict[str, Any]:
    base_url = f"http://127.0.0.1:{server.port}"
    phase, tag = Phase(mode), uuid.uuid4().hex[:6]
    clients = [asyncio.create_task(client_loop(c, base_url, key, phase, tag)) for c in range(args.clients)]
    probe = asyncio.create_task(readyz_probe(base_url, phase))
    await asyncio.sleep(args.warm)
    t_out = time.monotonic()
    if mode == "pause":
        await pg.pause()
    else:
        await pg.stop(mode)
    t_down = time.monotonic()
    await asyncio.sleep(args.pause_outage if mode == "pause" else args.outage)
    t_back = time.monotonic()
    if mode == "pause":
        await pg.resume()
        start_seconds = 0.0
    else:
        start_seconds = await pg.start()
    t_up = time.monotonic()
    deadline = t_up + 30
    while time.monotonic() < deadline and not any(  # noqa: ASYNC110 - polls what the clients record
        a.status == "201" and a.sent >= t_up for a in phase.answers
    ):
        await asyncio.sleep(0.02)
    await asyncio.sleep(args.after)
    phase.running = False
    await asyncio.gather(*clients)
    readyz = await probe

    answers = phase.answers
    statuses: dict[str, int] = {}
    for a in answers:
        key_ = a.status if a.code is None else f"{a.status} {a.code}"
        statuses[key_] = statuses.get(key_, 0) + 1
    during = [a for a in answers if a.sent >= t_down and a.done <= t_back]
    refused_503 = [a for a in answers if a.status == "503"]
    first_503 = min((a.done for a in refused_503 if a.done >= t_out), default=None)
    first_201 = min((a.done for a in answers if a.status == "201" and a.sent >= t_up), default=None)
    ready_again = min((s + d for s, d, st in readyz if st == 200 and s >= t_back), default=None)
    readyz_down = [(d, st) for s, d, st in readyz if s >= t_down and s + d <= t_back]
    conn = await connect(pg.url)
    try:
        stored = await check_store(conn, phase.ledger, phase.case_ids)
        drift = await read_model_drift(conn, phase.case_ids, DEFAULT_POLICY)
    finally:
        await conn.close()
    return {
        "mode": mode,
        "clients": args.clients,
        "requests": len(answers),
        "statuses": dict(sorted(statuses.items())),
        "server_errors_500": sum(1 for a in answers if a.status == "500"),
        "unanswered": sum(1 for a in answers if not a.status.isdigit()),
        "during_outage": {
            "requests": len(during),
            "all_503_database_unavailable": all(
                a.status == "503" and a.code == "database_unavailable" for a in during
            ),
            "latency": latency_summary([a.done - a.sent for a in during]),
            "max_s": round(max((a.done - a.sent for a in during), default=0.0), 3),
            "p99_s": round(percentile([a.done - a.sent for a in during], 99), 3) if during else None,
        },
        "every_503_latency": latency_summary([a.done - a.sent for a in refused_503]),
        "stop_took_s": round(t_down - t_out, 3),
        "outage_to_first_503_s": round(first_503 - t_out, 3) if first_503 else None,
        "readyz_during_outage": {
            "probes": len(readyz_down),
            "all_503": all(st == 503 for _, st in readyz_down),
            "max_s": round(max((d for d, _ in readyz_down), default=0.0), 3),
        },
        "database_start_s": round(start_seconds, 3),
        "back_to_first_201_s": round(first_201 - t_up, 3) if first_201 else None,
        "back_to_readyz_200_s": round(ready_again - t_up, 3) if ready_again else None,
        "acknowledged": stored.acknowledged,
        "lost": len(stored.lost),
        "duplicated": len(stored.duplicated),
        "version_gaps": len(stored.gaps),
        "read_model_drift_cases": len(drift),
        "append_latency_outside_outage": latency_summary(
            [
                a.done - a.sent
                for a in answers
                if a.kind == "append" and a.status == "201" and (a.done < t_out or a.sent > t_up)
            ]
        ),
        "requests_per_s_before_outage": round(sum(1 for a in answers if a.done < t_out) / args.warm, 1),
    }


def passed(result: dict[str, Any]) -> bool:
    return (
        result["server_errors_500"] == 0
        and result["unanswered"] == 0
        and result["lost"] == 0
        and result["duplicated"] == 0
        and result["version_gaps"] == 0
        and result["read_model_drift_cases"] == 0
        and result["during_outage"]["all_503_database_unavailable"]
        and result["readyz_during_outage"]["all_503"]
        and result["back_to_first_201_s"] is not None
        and result["back_to_readyz_200_s"] is not None
    )


async def main(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="caseledger-dbdown-"))
    pg = PrivatePostgres(workdir / "pg")
    await pg.start()
    server = Server(pg.url, free_port(), workdir / "server.log")
    say(f"embedded PostgreSQL in {pg.data_dir}; server log {server.log}")
    results = []
    try:
        server.start()
        await server.wait_ready()
        key = await asyncio.to_thread(server.create_key, "case_system")
        for mode in args.modes.split(","):
            outage = args.pause_outage if mode == "pause" else args.outage
            say(f"{mode}: {args.warm} s of load, {outage} s without the database, {args.after} s after")
            result = await one_mode(mode, args, pg, server, key)
            results.append(result)
            say(f"{mode}: {'ok' if passed(result) else 'FAILED'}")
            await server.wait_ready(within=30)
        assert server.proc is not None and server.proc.poll() is None, "the service died"
    finally:
        server.terminate()
        await asyncio.to_thread(pg.close)
    print(json.dumps(results, indent=2))
    if args.json:
        await asyncio.to_thread(Path(args.json).write_text, json.dumps(results, indent=2) + "\n")
    ok = all(passed(r) for r in results)
    say("every check holds" if ok else "A CHECK FAILED")
    return 0 if ok else 1


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m faults.database_down", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--modes", default="fast,immediate,kill9,pause")
    parser.add_argument("--warm", type=float, default=3)
    parser.add_argument("--outage", type=float, default=5)
    parser.add_argument(
        "--pause-outage",
        type=float,
        default=15,
        help="the hang lasts longer than the timeouts (statement 5 s + 1 s, cancel 3 s)",
    )
    parser.add_argument("--after", type=float, default=5)
    parser.add_argument("--json", help="also write the figures to this file")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse(sys.argv[1:]))))
