"""A private embedded PostgreSQL that a fault test may stop, crash, pause and start again.

It runs on its own data folder (never the shared test server), through
app.embedded_pg, so its URL stays the same across restarts. Stopping signals the
postmaster directly, as pg_ctl does:

- ``fast``: SIGINT, PostgreSQL's fast shutdown (sessions are terminated with
  57P01 admin_shutdown, a checkpoint is written);
- ``immediate``: SIGQUIT, PostgreSQL's immediate shutdown (no checkpoint; crash
  recovery replays the WAL at the next start);
- ``kill9``: SIGKILL of the postmaster (a crash; its backends exit when they
  notice, app.embedded_pg clears what is left at the next start);
- ``pause()`` / ``resume()``: SIGSTOP / SIGCONT of every process of the server: a
  database that hangs without closing a connection (the network case).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import time
from pathlib import Path

import psutil

from app.store.embedded_pg import EmbeddedPostgres, start_embedded_postgres

SIGNALS = {"fast": signal.SIGINT, "immediate": signal.SIGQUIT, "kill9": signal.SIGKILL}


class PrivatePostgres:
    def __init__(self, data_dir: Path, database: str = "caseledger") -> None:
        self.data_dir = Path(data_dir).resolve()
        self.database = database
        self.handle: EmbeddedPostgres | None = None
        self.paused: list[psutil.Process] = []

    @property
    def url(self) -> str:
        assert self.handle is not None, "start() first"
        return self.handle.url

    def start_sync(self) -> None:
        if self.handle is not None:
            self.handle.stop()  # releases the hold; the server is already gone
        self.handle = start_embedded_postgres(self.data_dir, database=self.database)

    async def start(self) -> float:
        """Start (crash recovery included); returns the seconds it took."""
        started = time.perf_counter()
        await asyncio.to_thread(self.start_sync)
        return time.perf_counter() - started

    def postmaster(self) -> psutil.Process | None:
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().split()[0])
            proc = psutil.Process(pid)
        except (OSError, ValueError, IndexError, psutil.Error):
            return None
        return proc if proc.name() == "postgres" else None

    def processes(self) -> list[psutil.Process]:
        """Every process of this server (each one's working directory is the data folder)."""
        found = []
        for proc in psutil.process_iter():
            with contextlib.suppress(psutil.Error, OSError):
                if proc.name() == "postgres" and Path(proc.cwd()).resolve() == self.data_dir:
                    found.append(proc)
        return found

    def stop_sync(self, mode: str) -> None:
        self.resume_sync()
        procs = self.processes()
        postmaster = self.postmaster()
        if postmaster is not None:
            postmaster.send_signal(SIGNALS[mode])
            postmaster.wait(timeout=60)
        if mode == "kill9":  # the backends go when they notice their postmaster died
            psutil.wait_procs(procs, timeout=10)

    async def stop(self, mode: str = "fast") -> float:
        started = time.perf_counter()
        await asyncio.to_thread(self.stop_sync, mode)
        return time.perf_counter() - started

    def pause_sync(self) -> None:
        self.paused = self.processes()
        for proc in self.paused:
            with contextlib.suppress(psutil.Error):
                proc.suspend()

    def resume_sync(self) -> None:
        for proc in self.paused:
            with contextlib.suppress(psutil.Error):
                proc.resume()
        self.paused = []

    async def pause(self) -> None:
        await asyncio.to_thread(self.pause_sync)

    async def resume(self) -> None:
        await asyncio.to_thread(self.resume_sync)

    def close(self, *, remove: bool = True) -> None:
        """Stop for good (fast) and, by default, remove the data folder."""
        self.resume_sync()
        if self.handle is not None:
            self.handle.stop()
            self.handle = None
        if self.postmaster() is not None:
            self.stop_sync("fast")
        if remove:
            shutil.rmtree(self.data_dir, ignore_errors=True)
