"""What confidentiality costs: appends with and without sealing, closure-clock reads with
and without access records, alternating in the same run and the same database.

A quick look on the in-process app. The figures with targets are in `python3 dev.py bench`
(steps `sealing` and `reads`: bench/sealing.py, bench/server_variants.py), against a real
server and a raw client.

Run: `.venv/bin/python -m bench.confidentiality_cost --server-url postgresql://postgres@127.0.0.1:5432/postgres
[--seconds 3] [--rounds 2]`. A throwaway database is created on that server and dropped
at the end. Appends: 8 writers, each a stream of new cases (CaseOpened, EmploymentStarted
with an employer and a note, EmploymentEnded with a reason: two of three events carry
personal values). Reads: 8 clients on the in-process app (httpx ASGI transport, so the
figure is the service's own cost), each GET /cases/{id}/closure-clock over 200 cases.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import time
import uuid
from collections.abc import Awaitable, Callable

import httpx

from app.domain.data_keys import AesGcmMasterKey
from app.domain.policy import DEFAULT_POLICY
from app.service.append import AppendHandler
from app.service.case_keys import CaseKeys
from app.service.keys import Principal, create_key
from app.service.validate import Proposed
from app.settings import Settings
from app.store.db import connect, create_pool
from app.store.migrations import upgrade_to_head

WRITER = Principal("bench-seal", "case_system")
WORKERS = 8


def a_case() -> list[list[Proposed]]:
    opened = {
        "opened_on": "2024-01-02",
        "supported_employment": False,
        "ipe_service_categories": ["job_coaching"],
    }
    job = {
        "job_id": "j1",
        "start_date": "2024-02-01",
        "employer": "Riverside Community Hospital",
        "soc_code": "35-2014",
        "hours_per_week": 30,
        "hourly_wage": "15.50",
    }
    ended = {"job_id": "j1", "end_date": "2024-03-01", "reason": "moved away to care for a parent"}
    return [
        [Proposed("CaseOpened", opened)],
        [Proposed("EmploymentStarted", job, metadata={"note": "prefers morning shifts"})],
        [Proposed("EmploymentEnded", ended)],
    ]


async def rate(work: Callable[[int], Awaitable[int]], seconds: float) -> float:
    """Operations per second of WORKERS concurrent loops of `work` (each call returns its count)."""
    stop = time.perf_counter() + seconds
    counts = [0] * WORKERS

    async def loop(i: int) -> None:
        while time.perf_counter() < stop:
            counts[i] += await work(i)

    start = time.perf_counter()
    await asyncio.gather(*(loop(i) for i in range(WORKERS)))
    return sum(counts) / (time.perf_counter() - start)


async def appends(url: str, seconds: float, rounds: int) -> None:
    pool = await create_pool(url, min_size=WORKERS, max_size=WORKERS + 2)
    handlers = {
        "clear": AppendHandler(pool, DEFAULT_POLICY),
        "sealed": AppendHandler(pool, DEFAULT_POLICY, keys=CaseKeys(AesGcmMasterKey(os.urandom(32)))),
    }
    for _ in range(rounds):
        for name, handler in handlers.items():

            async def one_case(i: int, handler: AppendHandler = handler) -> int:
                case_id = f"bench-{uuid.uuid4().hex[:16]}"
                for batch in a_case():
                    await handler.append(WRITER, case_id, None, batch)
                return 3

            print(f"appends {name:>6}: {await rate(one_case, seconds):8.0f} events/s")
    await pool.close()


async def reads(url: str, seconds: float, rounds: int) -> None:
    from app.web.app import create_app

    app = create_app(Settings(database_url=url), database_url=url)
    conn = await connect(url)
    key = (await create_key(conn, role="case_system"))[1]
    await conn.close()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            headers = {"Authorization": f"Bearer {key}"}
            cases = [f"read-{i}" for i in range(200)]
            for case_id in cases:
                body = {"events": [{"type": p.type, "data": p.data} for p in a_case()[0]]}
                await client.post(f"/cases/{case_id}/events", json=body, headers=headers)
            cycle = itertools.cycle(cases)

            async def read(i: int) -> int:
                r = await client.get(f"/cases/{next(cycle)}/closure-clock", headers=headers)
                assert r.status_code == 200, r.text
                return 1

            recorder = app.state.access_recorder
            for _ in range(rounds):
                for name, on in (("without", None), ("with", recorder)):
                    app.state.access_recorder = on
                    per_second = await rate(read, seconds)
                    print(f"closure-clock reads {name:>7} access records: {per_second:8.0f} reads/s")
            app.state.access_recorder = recorder


async def main(args: argparse.Namespace) -> None:
    name = f"bench_confidentiality_{uuid.uuid4().hex[:8]}"
    admin = await connect(args.server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = args.server_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        await upgrade_to_head(url)
        if "appends" in args.only:
            await appends(url, args.seconds, args.rounds)
        if "reads" in args.only:
            await reads(url, args.seconds, args.rounds)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", nargs="+", default=["appends", "reads"], choices=["appends", "reads"])
    asyncio.run(main(parser.parse_args()))
