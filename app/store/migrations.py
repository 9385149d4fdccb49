"""Alembic is the only way the schema is made; these run it from code.

They run as the owner of the tables. `upgrade_to_head` ends by granting the app
role again (`app.store.privileges`), so a migration written before it called
`grant_app_role` itself still leaves the service able to use its tables.
"""

from __future__ import annotations

import asyncio
from functools import lru_cache
from pathlib import Path

import asyncpg
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from alembic import command
from app.settings import REPO_ROOT
from app.store.db import sqlalchemy_url
from app.store.privileges import grant_app_role
from app.store.queries import load_sql

ALEMBIC_INI = REPO_ROOT / "alembic.ini"


def alembic_config(url: str) -> Config:
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(Path(REPO_ROOT, "alembic")))
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    return config


@lru_cache(maxsize=1)
def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config("postgresql+asyncpg://x/x")).get_current_head() or ""


async def upgrade_to_head(url: str) -> None:
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
    await regrant_app_role(url)


async def regrant_app_role(url: str) -> None:
    """Apply the app role's grants to the schema as it is now (idempotent)."""
    from sqlalchemy import pool
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(sqlalchemy_url(url), poolclass=pool.NullPool)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(grant_app_role)
    finally:
        await engine.dispose()


async def downgrade_to_base(url: str) -> None:
    await asyncio.to_thread(command.downgrade, alembic_config(url), "base")


async def schema_status(url: str) -> tuple[bool, bool]:
    """(the schema is at head, the connected role owns the events table), read-only."""
    from app.store.db import connect

    conn = await connect(url)
    try:
        revision = await conn.fetchval("SELECT version_num FROM alembic_version")
        owns_events = await conn.fetchval(load_sql("owns_events"))
        return revision == head_revision(), bool(owns_events)
    except asyncpg.UndefinedTableError:
        return False, False
    finally:
        await conn.close()


def current_revision_of(sync_connection) -> str | None:  # type: ignore[no-untyped-def]
    return MigrationContext.configure(sync_connection).get_current_revision()
