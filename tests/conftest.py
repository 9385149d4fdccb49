"""Test fixtures: a real, migrated PostgreSQL per test session, never a mock.

The server is the embedded one (`.data/test-postgres`) unless TEST_DATABASE_URL
names another, e.g. PostgreSQL 15 at 127.0.0.1:5432. Each session creates its
own database there and drops it at the end, so runs never see each other.

Least privilege (issue 12): databases are migrated as the owner (the server URL's
user); `pool` and `api` connect as the app role (`caseledger_app`), so the whole
suite proves the service works with the app role's grants. A test that tampers as
the owner (disables a trigger, rewrites rows) takes `owner_pool` or `fresh`.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.service.keys import create_key
from app.service.master_key_file import create_master_key_file
from app.settings import REPO_ROOT, Settings
from app.store.db import connect, create_pool
from app.store.migrations import upgrade_to_head
from app.store.pool import Pool
from app.store.privileges import app_role_url

# Sealing is on in every app the tests build (docs/privacy.md): the session's own master
# key, created in a temporary folder (every Settings() built here reads it from the env).
_MASTER_KEY_DIR = tempfile.mkdtemp(prefix="caseledger-master-key-")
os.environ.setdefault("CASELEDGER_MASTER_KEY_FILE", os.path.join(_MASTER_KEY_DIR, "master.key"))
if not os.path.exists(os.environ["CASELEDGER_MASTER_KEY_FILE"]):
    create_master_key_file(Path(os.environ["CASELEDGER_MASTER_KEY_FILE"]))

# The browser fixtures (`live_server`) for the UI tests of any folder.
pytest_plugins = ["tests.browser"]


def _server_url() -> str:
    configured = os.environ.get("TEST_DATABASE_URL")
    if configured:
        return configured
    from app.store.embedded_pg import start_embedded_postgres

    return start_embedded_postgres(REPO_ROOT / ".data" / "test-postgres", database="postgres").url


def _with_database(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    root = base.rsplit("/", 1)[0]
    return f"{root}/{name}" + (f"?{query}" if query else "")


class Databases:
    """Creates throwaway databases on the test server."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.created: list[str] = []

    async def create(self, *, migrated: bool = True) -> str:
        name = f"caseledger_test_{uuid.uuid4().hex[:12]}"
        admin = await connect(self.server_url)
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        self.created.append(name)
        url = _with_database(self.server_url, name)
        if migrated:
            await upgrade_to_head(url)
        return url

    async def drop_all(self) -> None:
        admin = await connect(self.server_url)
        try:
            for name in self.created:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """On CI (CI=true) a skipped test fails: a test skipped there is a test that does not exist."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if os.environ.get("CI") == "true" and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped on CI, which must run every test: {report.longrepr}"


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    yield _server_url()


@pytest.fixture(scope="session")
async def databases(server_url: str) -> AsyncIterator[Databases]:
    dbs = Databases(server_url)
    yield dbs
    await dbs.drop_all()


@pytest.fixture(scope="session")
async def database_url(databases: Databases) -> str:
    """The session database's owner URL: what migrate, import and rebuild run with."""
    return await databases.create()


@pytest.fixture(scope="session")
def app_database_url(database_url: str) -> str:
    """The same database as the app role: what the service connects with."""
    return app_role_url(database_url)


@pytest.fixture(scope="session")
async def pool(app_database_url: str) -> AsyncIterator[Pool]:
    """The service's pool: the app role, which can read and append but not rewrite."""
    p = await create_pool(app_database_url, min_size=1, max_size=20)
    yield p
    await p.close()


@pytest.fixture(scope="session")
async def owner_pool(database_url: str) -> AsyncIterator[Pool]:
    """The owner of the session database's tables, for tests that tamper as a DBA could."""
    p = await create_pool(database_url, min_size=1, max_size=4)
    yield p
    await p.close()


@pytest.fixture
async def fresh(databases: Databases) -> AsyncIterator[tuple[str, Pool]]:
    """A database of its own for a test that counts or rewrites whole tables (as the owner)."""
    url = await databases.create()
    pool = await create_pool(url, min_size=1, max_size=4)
    yield url, pool
    await pool.close()


class Api:
    """An HTTP client on the app in process, with one API key per role."""

    def __init__(self, client: httpx.AsyncClient, keys: dict[str, str]) -> None:
        self.client = client
        self.keys = keys

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}

    async def post(self, path: str, json: Any, role: str = "case_system", **kw: Any) -> httpx.Response:
        return await self.client.post(path, json=json, headers=self.headers(role), **kw)

    async def get(self, path: str, role: str = "case_system", **kw: Any) -> httpx.Response:
        return await self.client.get(path, headers=self.headers(role), **kw)

    async def append(
        self,
        case_id: str,
        *events: dict[str, Any],
        role: str = "case_system",
        expected_version: int | None = None,
    ) -> httpx.Response:
        body: dict[str, Any] = {"events": list(events)}
        if expected_version is not None:
            body["expected_version"] = expected_version
        return await self.post(f"/cases/{case_id}/events", body, role=role)

    async def key_for(self, pool: Pool, role: str, provider_id: str | None = None) -> str:
        async with pool.acquire() as conn:
            return (await create_key(conn, role=role, provider_id=provider_id))[1]  # type: ignore[arg-type]


async def make_api(database_url: str, pool: Pool) -> AsyncIterator[Api]:
    """The app on `database_url`'s database, connected as the app role whoever owns the URL."""
    from app.web.app import create_app

    app_url = app_role_url(database_url)
    app = create_app(Settings(database_url=app_url), database_url=app_url)
    keys = {}
    async with pool.acquire() as conn:
        for role in ("case_system", "auditor", "admin"):
            keys[role] = (await create_key(conn, role=role))[1]  # type: ignore[arg-type]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield Api(client, keys)


@pytest.fixture(scope="session")
async def api(app_database_url: str, pool: Pool) -> AsyncIterator[Api]:
    async for a in make_api(app_database_url, pool):
        yield a


@pytest.fixture
def case_id() -> str:
    return f"case-{uuid.uuid4().hex[:16]}"
