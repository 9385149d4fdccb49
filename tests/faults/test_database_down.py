"""PostgreSQL stopped (or hung) under load: 503 problem+json in bounded time, /readyz fails,
and the same app recovers without a restart when the database returns.

Each test runs its own embedded PostgreSQL in a temporary folder (never the shared
test server), a migrated database on it and an app on that. Eight clients append
(each to its own case, retrying a 503 with the same event_id, as a client should)
and read, while the server is stopped (fast or immediate shutdown, or SIGKILL of the
postmaster) or paused (SIGSTOP: the database hangs without closing anything).
Afterwards every acknowledged event is stored once, and the read models equal a
fold of the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from app.domain.policy import DEFAULT_POLICY
from app.service.keys import create_key
from app.settings import REPO_ROOT, Settings
from app.store.db import connect
from app.store.migrations import upgrade_to_head
from faults.common import Ledger, check_store, read_model_drift
from faults.pgcontrol import PrivatePostgres
from tests.builders import authorization, case_opened

CLIENTS = 8
PROBLEM = "application/problem+json"


@dataclass(slots=True)
class Outcome:
    sent: float
    done: float
    status: int | str  # the status, or the exception's name
    kind: str  # "append" or "read"
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return self.done - self.sent


@dataclass(slots=True)
class Load:
    """CLIENTS clients, each on its own case: appends (a 503 is retried with the same event_id
    and content) and closure-clock reads, until stopped."""

    client: httpx.AsyncClient
    ledger: Ledger = field(default_factory=Ledger)
    outcomes: list[Outcome] = field(default_factory=list)
    case_ids: list[str] = field(default_factory=list)
    running: bool = True

    async def request(self, kind: str, method: str, path: str, **kw: Any) -> Outcome:
        sent = time.monotonic()
        try:
            r = await self.client.request(method, path, **kw)
            body = r.json() if r.content else None
            outcome = Outcome(sent, time.monotonic(), r.status_code, kind, body, dict(r.headers))
        except Exception as exc:
            outcome = Outcome(sent, time.monotonic(), type(exc).__name__, kind)
        self.outcomes.append(outcome)
        return outcome

    async def client_loop(self, n: int) -> None:
        case_id = f"down-{uuid.uuid4().hex[:10]}-{n}"
        self.case_ids.append(case_id)
        k = 0
        while self.running:
            event = case_opened() if k == 0 else authorization(f"a-{k}", "2024-01-05", "2024-02-05")
            event = {**event, "event_id": str(uuid.uuid4()), "metadata": {"load_id": uuid.uuid4().hex}}
            while self.running:  # the same append until it is acknowledged
                got = await self.request(
                    "append", "POST", f"/cases/{case_id}/events", json={"events": [event]}
                )
                if got.status == 201:
                    assert got.body is not None
                    self.ledger.record(got.body, [event["metadata"]["load_id"]])
                    k += 1
                    break
                await asyncio.sleep(0.05)
            if k > 0 and self.running:
                await self.request("read", "GET", f"/cases/{case_id}/closure-clock")
            await asyncio.sleep(0.01)


@pytest.fixture(scope="module")
async def private_server() -> AsyncIterator[PrivatePostgres]:
    """One private server for the module (each test leaves it running again)."""
    # Under the repo's .data (not pytest's 0700 tmp folders): run as root, the embedded
    # server runs as the `pgserver` user, which must be able to enter its data folder.
    folder = REPO_ROOT / ".data" / f"faults-{uuid.uuid4().hex[:8]}"
    server = PrivatePostgres(folder / "pg")
    await server.start()
    try:
        yield server
    finally:
        await asyncio.to_thread(server.close)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
async def private_pg(private_server: PrivatePostgres) -> AsyncIterator[PrivatePostgres]:
    """The private server, up (even if a failed test left it stopped or paused)."""
    await private_server.resume()
    if private_server.postmaster() is None:
        await private_server.start()
    yield private_server


@contextlib.asynccontextmanager
async def app_client(url: str, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    from app.web.app import create_app

    await upgrade_to_head(url)
    conn = await connect(url)
    try:
        key = (await create_key(conn, role="case_system"))[1]
    finally:
        await conn.close()
    app = create_app(settings, database_url=url)
    async with app.router.lifespan_context(app):
        # raise_app_exceptions=False: an unhandled exception is a 500 here, as behind a server
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test", headers={"Authorization": f"Bearer {key}"}
        ) as client:
            yield client


async def wait_for(predicate: Any, within: float) -> float:
    """Poll an async predicate until true; the seconds it took."""
    started = time.monotonic()
    while not await predicate():
        assert time.monotonic() - started < within, f"not within {within} s"
        await asyncio.sleep(0.05)
    return time.monotonic() - started


def database_unavailable(o: Outcome) -> bool:
    return (
        o.status == 503
        and o.headers.get("content-type", "").startswith(PROBLEM)
        and o.body is not None
        and o.body.get("code") == "database_unavailable"
        and o.headers.get("retry-after") is not None
    )


async def run_outage(
    pg: PrivatePostgres, settings: Settings, *, mode: str, outage_seconds: float
) -> tuple[Load, dict[str, float]]:
    """Load, outage (stop or pause), back; returns the load and the times it saw."""
    times: dict[str, float] = {}
    async with app_client(pg.url, settings) as client:
        load = Load(client)
        clients = [asyncio.create_task(load.client_loop(n)) for n in range(CLIENTS)]
        try:
            await asyncio.sleep(1.0)
            assert any(o.status == 201 for o in load.outcomes), [o.status for o in load.outcomes][:5]
            times["outage"] = time.monotonic()
            if mode == "pause":
                await pg.pause()
            else:
                await pg.stop(mode)
            times["down"] = time.monotonic()
            await asyncio.sleep(outage_seconds)
            ready = await client.get("/readyz")
            assert ready.status_code == 503 and ready.json()["code"] == "not_ready", ready.text
            assert (await client.get("/healthz")).status_code == 200
            times["back"] = time.monotonic()
            if mode == "pause":
                await pg.resume()
            else:
                await pg.start()
            times["up"] = time.monotonic()

            async def acknowledged_since_up() -> bool:
                return any(o.status == 201 and o.sent >= times["up"] for o in load.outcomes)

            times["recovery"] = await wait_for(acknowledged_since_up, 15)

            async def ready_again() -> bool:
                return (await client.get("/readyz")).status_code == 200

            await wait_for(ready_again, 15)
            await asyncio.sleep(0.5)
        finally:
            load.running = False
            await asyncio.gather(*clients)
    return load, times


async def check_outcome(
    pg: PrivatePostgres, load: Load, times: dict[str, float], *, latency_bound: float
) -> None:
    outcomes = load.outcomes
    # never a 500 or a hung or broken request: an answer, 2xx or 503 problem+json, in bounded time
    wrong = [o for o in outcomes if o.status not in (200, 201) and not database_unavailable(o)]
    assert wrong == [], [(o.status, o.kind, o.body) for o in wrong[:5]]
    slowest = max(o.seconds for o in outcomes)
    assert slowest <= latency_bound, f"slowest answer {slowest:.2f} s"
    # while the database is away every request is refused, appends and reads alike
    during = [o for o in outcomes if o.sent >= times["down"] and o.done <= times["back"]]
    assert len(during) >= CLIENTS, len(during)
    assert {o.status for o in during} == {503}
    assert {o.kind for o in during} >= {"append"}
    # ... and afterwards it works again, in the same process
    assert times["recovery"] <= 10
    after = [o for o in outcomes if o.sent >= times["up"] + times["recovery"] + 0.2]
    assert after and all(o.status in (200, 201) for o in after), {o.status for o in after}
    # nothing acknowledged was lost, nothing retried was stored twice
    conn = await connect(pg.url)
    try:
        result = await check_store(conn, load.ledger, load.case_ids)
        assert result.ok, result.summary()
        assert result.acknowledged > CLIENTS, result.summary()
        assert await read_model_drift(conn, load.case_ids, DEFAULT_POLICY) == {}
    finally:
        await conn.close()


@pytest.mark.parametrize("mode", ["fast", "immediate", "kill9"])
async def test_postgres_stopped_under_load_answers_503_then_recovers(private_pg, mode):
    settings = Settings(database_url=private_pg.url, pool_min_size=2, pool_max_size=6)
    load, times = await run_outage(private_pg, settings, mode=mode, outage_seconds=1.5)
    await check_outcome(private_pg, load, times, latency_bound=5.0)


async def test_postgres_hung_under_load_answers_503_within_the_timeouts_then_recovers(private_pg):
    """SIGSTOP: connections stay open but nothing answers. With a 1 s statement timeout the
    client-side command timeout is 2 s and a timed-out connection is dropped within 1 s more;
    a request waiting for a connection gives up after 1 s."""
    settings = Settings(
        database_url=private_pg.url,
        pool_min_size=2,
        pool_max_size=6,
        statement_timeout_ms=1000,
        db_connect_timeout_s=1.0,
    )
    load, times = await run_outage(private_pg, settings, mode="pause", outage_seconds=5.0)
    await check_outcome(private_pg, load, times, latency_bound=4.0)
