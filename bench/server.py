"""The service as a real process: uvicorn with `caseledger serve`'s configuration.

`caseledger serve` runs uvicorn.run("app.web.app:create_app", factory=True,
loop="uvloop", http="httptools", access_log=False, workers=N); so does this,
on a free port of 127.0.0.1, with DATABASE_URL naming the benchmark's
(already migrated) database. A sampler thread records every worker's RSS.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

from app.service.keys import create_key
from app.settings import REPO_ROOT
from app.store.db import connect
from bench.common import OUT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def make_key(url: str, role: str = "case_system") -> str:
    conn = await connect(url)
    try:
        return (await create_key(conn, role=role, label="bench"))[1]  # type: ignore[arg-type]
    finally:
        await conn.close()


class Server:
    def __init__(
        self,
        url: str,
        workers: int = 1,
        label: str = "server",
        factory: str = "app.web.app:create_app",
        cwd: Path = REPO_ROOT,
        http: str = "app.web.connection_limits:GuardedHttpTools",
    ) -> None:
        self.url, self.workers, self.label, self.factory = url, workers, label, factory
        self.cwd = cwd  # another checkout, for A/B experiments
        self.http = http  # another checkout serves with its own protocol class (before 082b4dc: httptools)
        self.host, self.port = "127.0.0.1", free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.peak_rss: dict[int, int] = {}
        self._sampling = False
        self._sampler: threading.Thread | None = None

    def start(self, timeout: float = 60.0) -> Server:
        code = (
            f"import uvicorn; uvicorn.run('{self.factory}', factory=True, "
            f"host='{self.host}', port={self.port}, workers={self.workers}, "
            "loop='uvloop', access_log=False, timeout_keep_alive=5, limit_concurrency=1000, "
            f"http='{self.http}')"
        )
        env = dict(os.environ, DATABASE_URL=self.url, CASELEDGER_LOG_LEVEL="WARNING")
        OUT.mkdir(parents=True, exist_ok=True)
        self.log_path = OUT / f"{self.label}.log"
        with Path(self.log_path).open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", code],
                cwd=self.cwd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: see {self.log_path}")
            if self._ready() and len(self.worker_pids()) >= self.workers:
                break
            time.sleep(0.2)
        else:
            self.stop()
            raise RuntimeError(f"server did not become ready: see {self.log_path}")
        self._sampling = True
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()
        return self

    def _ready(self) -> bool:
        try:
            r = httpx.get(f"http://{self.host}:{self.port}/readyz", timeout=1)
        except httpx.HTTPError:
            return False
        return r.status_code == 200

    def worker_pids(self) -> list[int]:
        """The processes that serve requests: the children with --workers > 1, else the main one."""
        if self.proc is None:
            return []
        try:
            main = psutil.Process(self.proc.pid)
            children = [c for c in main.children() if "python" in (c.name() or "")]
        except psutil.NoSuchProcess:
            return []
        if self.workers > 1:
            # uvicorn's supervisor also starts a multiprocessing resource tracker; the workers
            # are the children that listen.
            return [c.pid for c in children if _listens(c)] or [c.pid for c in children]
        return [main.pid]

    def _sample(self) -> None:
        while self._sampling:
            for pid in self.worker_pids():
                with contextlib.suppress(psutil.NoSuchProcess):
                    rss = psutil.Process(pid).memory_info().rss
                    self.peak_rss[pid] = max(self.peak_rss.get(pid, 0), rss)
            time.sleep(0.2)

    def reset_peaks(self) -> None:
        self.peak_rss = {}

    def rss_now(self) -> dict[int, int]:
        out = {}
        for pid in self.worker_pids():
            with contextlib.suppress(psutil.NoSuchProcess):
                out[pid] = psutil.Process(pid).memory_info().rss
        return out

    def stop(self) -> None:
        self._sampling = False
        if self._sampler is not None:
            self._sampler.join(timeout=2)
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def _listens(proc: psutil.Process) -> bool:
    try:
        return any(c.status == psutil.CONN_LISTEN for c in proc.net_connections(kind="tcp"))
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False
