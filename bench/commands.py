"""Benchmark 2: command round trips through HTTP, 16 concurrent clients, many cases.

Each request is a POST /cases/{id}/events of one event with the case's
expected_version: the server reads the case head, folds (cache or snapshot and
tail), decides, hashes and appends with both read models in one transaction.
Every client works its own cases (64 each), which hold the first 30 events of a
generated history (loaded through the same API before the timed window); the
next event alternates an authorization and its payment, so every command is
accepted (201). The server's RSS is sampled throughout (benchmark 7, writes).
"""

from __future__ import annotations

import itertools
import random
import uuid
from typing import Any

import orjson

from bench import gen
from bench.appends import continuation
from bench.httpload import RawConnection, run_load
from bench.server import Server

CLIENTS = 16
PRELOAD_EVENTS = 30


class Workload:
    """Per-client cases, their versions and their endless valid continuations."""

    def __init__(self, clients: int, cases_per_client: int, seed: int) -> None:
        rng = random.Random(seed)
        run = uuid.uuid4().hex[:6]
        self.histories: dict[str, list[gen.Event]] = {}
        self.scripts: dict[str, Any] = {}
        self.versions: dict[str, int] = {}
        self.mine: list[Any] = []
        for c in range(clients):
            ids = [f"cmd-{run}-{c}-{k}" for k in range(cases_per_client)]
            for case_id in ids:
                history = gen.long_case(rng, case_id, 60)[:PRELOAD_EVENTS]
                self.histories[case_id] = history
                self.scripts[case_id] = continuation(case_id, history[0][1]["ipe_service_categories"][0])
                self.versions[case_id] = 0
            self.mine.append(itertools.cycle(ids))
        self.errors: list[str] = []

    async def preload(self, host: str, port: int, key: str) -> None:
        import asyncio

        ids = list(self.histories)
        sem = asyncio.Semaphore(CLIENTS)

        async def one(case_id: str) -> None:
            async with sem:
                conn = RawConnection(host, port, {"Authorization": f"Bearer {key}"})
                body = orjson.dumps(
                    {
                        "expected_version": 0,
                        "events": [{"type": t, "data": d} for t, d in self.histories[case_id]],
                    }
                )
                status, payload = await conn.request("POST", f"/cases/{case_id}/events", body)
                await conn.close()
                if status != 201:
                    raise RuntimeError(f"preload of {case_id} answered {status}: {payload[:300]!r}")
                self.versions[case_id] = orjson.loads(payload)["version"]

        await asyncio.gather(*(one(c) for c in ids))

    async def step(self, conn: Any, client: int) -> int:
        case_id = next(self.mine[client])
        type_, data = next(self.scripts[case_id])
        body = orjson.dumps(
            {"expected_version": self.versions[case_id], "events": [{"type": type_, "data": data}]}
        )
        status, payload = await conn.request("POST", f"/cases/{case_id}/events", body)
        if status == 201:
            self.versions[case_id] = orjson.loads(payload)["version"]
        elif len(self.errors) < 5:
            self.errors.append(f"{status}: {payload[:300]!r}")
        return status


async def run(
    server: Server, key: str, *, kind: str, seconds: float, cases_per_client: int, seed: int
) -> dict[str, Any]:
    work = Workload(CLIENTS, cases_per_client, seed)
    await work.preload(server.host, server.port, key)
    result = await run_load(
        kind,
        server.host,
        server.port,
        key,
        CLIENTS,
        seconds,
        work.step,
        server_pids=server.worker_pids,
    )
    out = result.summary()
    out["errors"] = work.errors
    out["cases"] = CLIENTS * cases_per_client
    return out
