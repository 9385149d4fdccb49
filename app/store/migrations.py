"""Alembic is the only way the schema is made; these run it from code."""

from __future__ import annotations

import asyncio
from functools import lru_cache
from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from alembic import command
from app.settings import REPO_ROOT
from app.store.db import sqlalchemy_url

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


async def downgrade_to_base(url: str) -> None:
    await asyncio.to_thread(command.downgrade, alembic_config(url), "base")


def current_revision_of(sync_connection) -> str | None:  # type: ignore[no-untyped-def]
    return MigrationContext.configure(sync_connection).get_current_revision()
