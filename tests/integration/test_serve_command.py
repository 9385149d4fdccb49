"""`caseledger serve` as a newcomer runs it: on an empty database it migrates, prints a
first admin key and serves, and the serving process never holds SQLAlchemy or Alembic.

What the process holds is read from outside, in /proc/<pid>/maps: SQLAlchemy's compiled
extensions (site-packages/sqlalchemy/**/*.so) are mapped by `import sqlalchemy`, and
`import alembic` imports SQLAlchemy, so no mapping there means neither was imported
(an extension is never unloaded). The check is first run on the test process itself,
which imported both, so it cannot pass for want of extensions to see. The migration runs
in a child of serve, which exits before serving starts; its imports are not checked.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from app.settings import REPO_ROOT
from app.store.db import connect
from app.store.migrations import head_revision
from app.store.privileges import app_role_url

READY_WITHIN_SECONDS = 60
OWNER_WARNING = "warning: serving as the owner of the tables"


def _sqlalchemy_mapped(pid: int) -> list[str]:
    """SQLAlchemy's compiled extensions the process `pid` has mapped."""
    maps = Path(f"/proc/{pid}/maps").read_text()
    return sorted({line.split()[-1] for line in maps.splitlines() if "/site-packages/sqlalchemy/" in line})


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def _serve(owner_url: str, app_url: str | None, log: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`python -m app.cli serve` on a free port, output in `log`; stopped whatever happens."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "CASELEDGER_APP_DATABASE_URL"}
    env.update(DATABASE_URL=owner_url, CASELEDGER_LOG_LEVEL="WARNING")
    if app_url:
        env["CASELEDGER_APP_DATABASE_URL"] = app_url
    command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--workers", "1"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=env, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield process, f"http://127.0.0.1:{port}"
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> int:
    """Ctrl-C (to the whole group, a migration child too), then SIGTERM, then SIGKILL."""
    for sig, grace in ((signal.SIGINT, 10), (signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        if process.poll() is not None:
            break
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue
    return process.wait(timeout=5)


async def _ready(process: subprocess.Popen[bytes], base: str, log: Path) -> dict:
    """The first 200 of /readyz, polled until READY_WITHIN_SECONDS."""
    deadline = asyncio.get_running_loop().time() + READY_WITHIN_SECONDS
    last = "no answer"
    async with httpx.AsyncClient(base_url=base, timeout=2) as client:
        while asyncio.get_running_loop().time() < deadline:
            assert process.poll() is None, f"serve exited ({process.returncode}):\n{_tail(log)}"
            try:
                answer = await client.get("/readyz")
                if answer.status_code == 200:
                    return answer.json()
                last = f"{answer.status_code} {answer.text}"
            except httpx.TransportError as exc:
                last = repr(exc)
            await asyncio.sleep(0.1)
    raise AssertionError(f"/readyz not 200 within {READY_WITHIN_SECONDS} s, last: {last}")


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:]


def _first_admin_key(log: Path) -> str:
    found = re.search(r"admin API key was created.*?\n\s*(cl_\S+)", log.read_text(), re.DOTALL)
    assert found, f"no first admin key printed:\n{_tail(log)}"
    return found.group(1)


async def _roles_connected(owner_url: str) -> set[str]:
    """The roles of the other sessions on the database: the server's pool, once ready."""
    conn = await connect(owner_url)
    try:
        rows = await conn.fetch(
            "SELECT DISTINCT usename FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND backend_type = 'client backend'"  # not an autovacuum worker (no role)
        )
        return {r["usename"] for r in rows}
    finally:
        await conn.close()


@pytest.mark.parametrize("with_app_url", [False, True], ids=["one-url", "owner-and-app-urls"])
async def test_serve_migrates_an_empty_database_and_serves_without_sqlalchemy(
    databases, tmp_path, with_app_url
):
    owner_url = await databases.create(migrated=False)
    app_url = app_role_url(owner_url) if with_app_url else None
    log = tmp_path / "serve.log"
    assert _sqlalchemy_mapped(os.getpid()), "the check cannot see SQLAlchemy where it is imported"
    with _serve(owner_url, app_url, log) as (process, base):
        assert await _ready(process, base, log) == {"status": "ready", "revision": head_revision()}
        assert _sqlalchemy_mapped(process.pid) == [], "the serving process imported SQLAlchemy"
        key = _first_admin_key(log)
        async with httpx.AsyncClient(base_url=base, timeout=5) as client:
            keys = await client.get("/admin/api-keys", headers={"Authorization": f"Bearer {key}"})
        assert keys.status_code == 200, keys.text
        roles = await _roles_connected(owner_url)
        assert await asyncio.to_thread(_stop, process) == 0, _tail(log)
    assert roles == {urlsplit(app_url or owner_url).username}, "serving as another role than given"
    assert (OWNER_WARNING in log.read_text()) == (not with_app_url), _tail(log)


@pytest.mark.parametrize("with_app_url", [False, True], ids=["one-url", "owner-and-app-urls"])
async def test_serve_on_a_database_that_does_not_exist_exits_with_the_reason(
    databases, tmp_path, with_app_url
):
    """Serve stops at the failed migration, before serving; the reason is one line, its last
    (through asyncpg with one URL, through Alembic and SQLAlchemy with two), no traceback."""
    missing = f"caseledger_missing_{os.getpid()}"
    owner_url = urlunsplit(urlsplit(databases.server_url)._replace(path=f"/{missing}"))
    log = tmp_path / "serve.log"
    with _serve(owner_url, app_role_url(owner_url) if with_app_url else None, log) as (process, _):
        code = await asyncio.to_thread(process.wait, 30)
    assert code != 0
    said = log.read_text().strip().splitlines() or ["(nothing)"]
    assert said[-1].startswith("caseledger serve: the database could not be migrated"), _tail(log)
    assert f'database "{missing}" does not exist' in said[-1], _tail(log)
    assert "Traceback" not in log.read_text(), _tail(log)
