"""What every benchmark shares: the database server, throwaway databases, figures, the machine."""

from __future__ import annotations

import asyncio
import os
import platform
import statistics
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from app.settings import REPO_ROOT
from app.store.db import asyncpg_dsn, connect
from app.store.migrations import upgrade_to_head

OUT = REPO_ROOT / "bench" / "out"
DEFAULT_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


STOP = {"requested": False}


class Stopped(Exception):
    """Ctrl-C or SIGTERM: the run ends at the next repeat, dropping its databases."""


def check_stop() -> None:
    if STOP["requested"]:
        raise Stopped("interrupted")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


@dataclass
class Figure:
    """One measured figure: the repeats, their median, the target and whether it is met."""

    key: str
    label: str
    unit: str
    repeats: list[float]
    target: float | None = None
    higher_is_better: bool = True
    reference: str | None = None  # the reference figure, for the table
    bound: str | None = None  # what bounds it (filled in from profiles and CPU splits)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def value(self) -> float:
        return statistics.median(self.repeats)

    @property
    def ratio(self) -> float | None:
        if self.target is None or not self.value:
            return None
        return self.value / self.target if self.higher_is_better else self.target / self.value

    @property
    def met(self) -> bool | None:
        return None if self.ratio is None else self.ratio >= 1.0

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "value": self.value, "ratio_to_target": self.ratio, "met": self.met}


@dataclass
class Ratio:
    """Two figures of one run side by side, e.g. store / raw."""

    key: str
    label: str
    numerator: str
    denominator: str
    target: float | None = None
    value: float | None = None

    @property
    def met(self) -> bool | None:
        if self.target is None or self.value is None:
            return None
        return self.value >= self.target


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0-100) of unsorted values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(round(q / 100 * len(ordered) + 0.5) - 1, 0)
    return ordered[min(rank, len(ordered) - 1)]


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


def with_database(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    root = base.rsplit("/", 1)[0]
    return f"{root}/{name}" + (f"?{query}" if query else "")


async def _answers(url: str) -> bool:
    try:
        conn = await asyncpg.connect(asyncpg_dsn(url)[0], timeout=2)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await conn.close()
    return True


async def server_url(explicit: str | None) -> tuple[str, str]:
    """(SQLAlchemy URL of the maintenance database, where it came from)."""
    if explicit:
        return explicit, "--database-url"
    if await _answers(DEFAULT_SERVER):
        return DEFAULT_SERVER, "127.0.0.1:5432"
    from app.store.embedded_pg import start_embedded_postgres

    embedded = await asyncio.to_thread(
        start_embedded_postgres, REPO_ROOT / ".data" / "bench-postgres", database="postgres"
    )
    return embedded.url, "embedded (.data/bench-postgres)"


class Databases:
    """Creates throwaway databases on the server; every one is dropped at the end."""

    def __init__(self, server: str) -> None:
        self.server = server
        self.created: list[str] = []

    async def create(self, label: str, *, migrated: bool = True) -> str:
        name = f"caseledger_bench_{label}_{uuid.uuid4().hex[:8]}"
        admin = await connect(self.server)
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        self.created.append(name)
        url = with_database(self.server, name)
        if migrated:
            await upgrade_to_head(url)
        return url

    async def drop(self, url: str) -> None:
        name = url.partition("?")[0].rsplit("/", 1)[1]
        admin = await connect(self.server)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
        if name in self.created:
            self.created.remove(name)

    async def drop_all(self) -> None:
        for name in list(self.created):
            await self.drop(with_database(self.server, name))


async def server_facts(server: str) -> dict[str, Any]:
    conn = await connect(server)
    try:
        version = await conn.fetchval("SHOW server_version")
        settings = {
            r["name"]: r["setting"]
            for r in await conn.fetch(
                "SELECT name, setting FROM pg_settings WHERE name = ANY($1::text[])",
                [
                    "fsync",
                    "synchronous_commit",
                    "shared_buffers",
                    "wal_level",
                    "max_connections",
                    "autovacuum",
                ],
            )
        }
    finally:
        await conn.close()
    return {"postgresql": version, "settings": settings}


def machine_facts() -> dict[str, Any]:
    import psutil

    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": _cpu_model(),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


POSTMASTER: dict[str, int | None] = {"pid": None}


async def find_postmaster(server: str) -> int | None:
    """The pid of the server's postmaster (postmaster.pid in its data directory), if readable."""
    conn = await connect(server)
    try:
        data_dir = await conn.fetchval("SHOW data_directory")
    finally:
        await conn.close()
    pid = _postmaster_pid(Path(data_dir))
    POSTMASTER["pid"] = pid
    return pid


def _postmaster_pid(data_dir: Path) -> int | None:
    try:
        return int((data_dir / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def postgres_cpu() -> dict[int, float]:
    """CPU seconds by pid of the benchmarked server's processes (backends, WAL writer...)."""
    import psutil

    pid = POSTMASTER["pid"]
    procs: list[psutil.Process] = []
    try:
        if pid is not None:
            master = psutil.Process(pid)
            procs = [master, *master.children()]
    except psutil.NoSuchProcess:
        procs = []
    if not procs:
        procs = [p for p in psutil.process_iter(["name"]) if p.info["name"] == "postgres"]
    out = {}
    for proc in procs:
        try:
            t = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        out[proc.pid] = t.user + t.system
    return out


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU used between two samples by processes alive at the second (exited ones are lost)."""
    return sum(max(t - before.get(pid, 0.0), 0.0) for pid, t in after.items())


def process_cpu(pids: list[int]) -> dict[int, float]:
    import psutil

    out = {}
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
        except psutil.NoSuchProcess:
            continue
        out[pid] = t.user + t.system
    return out


class CpuSplit:
    """Who used the CPU during a timed section: this process, the server processes, PostgreSQL."""

    def __init__(self, server_pids: Callable[[], list[int]] | None = None) -> None:
        self.server_pids = server_pids or (lambda: [])

    def __enter__(self) -> CpuSplit:
        self.t0 = time.perf_counter()
        self.c0, self.s0, self.p0 = (
            time.process_time(),
            process_cpu(self.server_pids()),
            postgres_cpu(),
        )
        self.load0 = load_average()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.t0
        self.client = time.process_time() - self.c0
        self.server = cpu_delta(self.s0, process_cpu(self.server_pids()))
        self.postgres = cpu_delta(self.p0, postgres_cpu())

    def as_dict(self, per: int | None = None) -> dict[str, Any]:
        """CPU used as a share of one core, and CPU microseconds per operation."""
        d: dict[str, Any] = {
            "wall_s": round(self.wall, 3),
            "client_cores": round(self.client / self.wall, 2),
            "server_cores": round(self.server / self.wall, 2),
            "postgres_cores": round(self.postgres / self.wall, 2),
            "load_before": self.load0,
        }
        if per:
            d["client_us_per_op"] = round(self.client / per * 1e6, 1)
            d["server_us_per_op"] = round(self.server / per * 1e6, 1)
            d["postgres_us_per_op"] = round(self.postgres / per * 1e6, 1)
        return d
