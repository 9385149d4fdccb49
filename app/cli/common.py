"""What every command shares: the database it talks to, a connection or pool, a progress bar.

The commands are thin: they parse options, call a use case or a batch job, and
print its summary. A progress bar goes to stderr and is silent when stderr is not
a terminal, so logs and CI output stay clean.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

import asyncpg
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from app.domain.policy import PolicyTable
from app.ops.bulk_import import BULK_STATEMENT_TIMEOUT_MS
from app.settings import get_settings
from app.store.pool import Pool

if TYPE_CHECKING:
    from app.store.embedded_pg import EmbeddedPostgres

T = TypeVar("T")
# Import and rebuild are Python-bound: one process per core, up to two (each holds its
# own batches; PostgreSQL needs CPU too).
DEFAULT_WORKERS = max(1, min(2, os.cpu_count() or 1))


def database_url() -> str:
    """The owner's URL, for migrate, import and rebuild: DATABASE_URL, or the embedded
    PostgreSQL in the project's data folder (started if needed) as its superuser."""
    settings = get_settings()
    if settings.database_url:
        return settings.database_url
    return _embedded().url


def app_database_url() -> str:
    """The URL `serve` connects with, the app role's (least privilege, docs/operations.md):
    CASELEDGER_APP_DATABASE_URL, else DATABASE_URL as given, else the embedded app role."""
    settings = get_settings()
    if settings.app_database_url:
        return settings.app_database_url
    if settings.database_url:
        return settings.database_url
    return _embedded().app_url


@lru_cache(maxsize=1)
def _embedded() -> EmbeddedPostgres:
    from app.store.embedded_pg import start_embedded_postgres

    settings = get_settings()
    return start_embedded_postgres(settings.data_dir, app_role=settings.app_role)


def policy() -> PolicyTable:
    return get_settings().policy_table()


def run(work: Callable[[str], Awaitable[T]]) -> T:
    """Run `work(url)` on the configured database."""
    return asyncio.run(work(database_url()))


def with_conn(work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    """Run `work(conn)` on one connection to the configured database."""
    from app.store.db import connect

    async def main(url: str) -> T:
        conn = await connect(url)
        try:
            return await work(conn)
        finally:
            await conn.close()

    return run(main)


def with_pool(work: Callable[[Pool], Awaitable[T]]) -> T:
    """Run `work(pool)` on a small pool whose statements may run as long as bulk work needs."""
    from app.store.db import create_pool

    async def main(url: str) -> T:
        pool = await create_pool(url, min_size=1, max_size=3, statement_timeout_ms=BULK_STATEMENT_TIMEOUT_MS)
        try:
            return await work(pool)
        finally:
            await pool.close()

    return run(main)


@contextmanager
def progress_bar(description: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A rich bar on stderr; quiet when stderr is not a TTY."""
    console = Console(stderr=True)
    columns: Any = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, disable=not console.is_terminal, transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)
