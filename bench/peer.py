"""The peer: the Python `eventsourcing` library (9.5.6) on the same PostgreSQL.

POSTGRES persistence through psycopg (binary), 8 threads; the aggregate holds
the same kind of payload as ours (an authorization payment). Modes:
- one event per save: each thread keeps its aggregate in memory, triggers one
  event and saves it (the figure the store is compared with);
- get-modify-save: repository.get (replays the aggregate), one event, save;
- batched saves: 100 events of one aggregate per save;
- notification-log read with decoding, and rebuilding a 50-event aggregate
  (from the database, and from already-read stored events).
The library serialises writers with `LOCK TABLE ... IN EXCLUSIVE MODE` so that
its notification log has no gaps; that lock is what bounds its appends.
"""

from __future__ import annotations

import functools
import threading
import time
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from bench.common import CpuSplit, percentile

THREADS = 8


def _env(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": unquote(parts.path.lstrip("/")),
        "POSTGRES_HOST": query.get("host") or parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(query.get("port") or parts.port or 5432),
        "POSTGRES_USER": parts.username or "postgres",
        "POSTGRES_PASSWORD": parts.password or "",
        "POSTGRES_POOL_SIZE": str(THREADS + 2),
        "POSTGRES_MAX_OVERFLOW": "0",
    }


@functools.cache
def _classes() -> tuple[Any, Any]:
    """Defined once per process: the library registers each class under its topic."""
    from eventsourcing.application import Application
    from eventsourcing.domain import Aggregate, event

    class Case(Aggregate):
        @event("Opened")
        def __init__(self, case_ref: str) -> None:
            self.case_ref = case_ref
            self.payments = 0

        @event("AuthorizationPaid")
        def pay(self, authorization_id: str, payment_date: str, amount: str, paid_in_full: bool) -> None:
            self.payments += 1

    class Cases(Application):
        log_section_size = 1000

    return Case, Cases


def _app(url: str) -> Any:
    case, cases = _classes()
    app = cases(env=_env(url))
    app.case_class = case
    return app


def _pay(agg: Any, i: int) -> None:
    agg.pay(authorization_id=f"auth-{i}", payment_date="2024-03-01", amount="125.00", paid_in_full=False)


def _threads(work: Any, seconds: float, warmup: float = 0.3) -> tuple[int, float, CpuSplit, list[str]]:
    """Run work(thread_index, tick) in THREADS threads; tick(n) counts n inside the window."""
    state = {"counting": False, "stop": False, "count": 0}
    lock = threading.Lock()

    def tick(n: int) -> bool:
        if state["counting"]:
            with lock:
                state["count"] += n
        return not state["stop"]

    errors: list[str] = []

    def guarded(t: int) -> None:
        try:
            work(t, tick)
        except Exception as exc:  # reported with the figure, not lost in a thread
            errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=guarded, args=(t,)) for t in range(THREADS)]
    for t in threads:
        t.start()
    time.sleep(warmup)
    with CpuSplit() as cpu:
        state["counting"] = True
        time.sleep(seconds)
        state["counting"] = False
    state["stop"] = True
    for t in threads:
        t.join()
    return int(state["count"]), cpu.wall, cpu, errors


def appends(url: str, seconds: float, mode: str) -> dict[str, Any]:
    """mode: one_event, get_modify_save or batched (100 events per save)."""
    app = _app(url)
    try:

        def work(t: int, tick: Any) -> None:
            agg = app.case_class(f"peer-{t}")
            app.save(agg)
            ids = [agg.id]
            if mode == "get_modify_save":
                for k in range(15):
                    other = app.case_class(f"peer-{t}-{k}")
                    app.save(other)
                    ids.append(other.id)
            i = 0
            while True:
                i += 1
                if mode == "one_event":
                    _pay(agg, i)
                    app.save(agg)
                    n = 1
                elif mode == "get_modify_save":
                    current = app.repository.get(ids[i % len(ids)])
                    _pay(current, i)
                    app.save(current)
                    n = 1
                else:
                    for k in range(100):
                        _pay(agg, i * 100 + k)
                    app.save(agg)
                    n = 100
                if not tick(n):
                    return

        n, wall, cpu, errors = _threads(work, seconds)
    finally:
        app.close()
    return {"events": n, "seconds": wall, "rate": n / wall, "cpu": cpu.as_dict(n), "errors": errors[:3]}


def reads(url: str, rebuild_samples: int = 300) -> dict[str, Any]:
    """Notification-log read with decoding of everything written so far, and a 50-event rebuild."""
    app = _app(url)
    try:
        start, total, t0 = 1, 0, time.perf_counter()
        while True:
            section = app.recorder.select_notifications(start=start, limit=1000)
            if not section:
                break
            for notification in section:
                app.mapper.to_domain_event(notification)
            total += len(section)
            start = section[-1].id + 1
        read_rate = total / (time.perf_counter() - t0)
        agg = app.case_class("peer-fifty")
        for i in range(49):
            _pay(agg, i)
        app.save(agg)
        from_db, in_memory = [], []
        stored = app.events.recorder.select_events(agg.id)
        for _ in range(rebuild_samples):
            t = time.perf_counter()
            app.repository.get(agg.id)
            from_db.append(time.perf_counter() - t)
            t = time.perf_counter()
            rebuilt = None
            for s in stored:
                rebuilt = app.mapper.to_domain_event(s).mutate(rebuilt)
            in_memory.append(time.perf_counter() - t)
        assert rebuilt is not None and rebuilt.version == 50
    finally:
        app.close()
    return {
        "notifications": total,
        "read_rate": read_rate,
        "rebuild50_db_p50_ms": percentile(from_db, 50) * 1e3,
        "rebuild50_memory_p50_ms": percentile(in_memory, 50) * 1e3,
    }
