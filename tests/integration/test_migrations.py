"""Alembic is the only way the schema is made, and it matches app.schema exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from app.store.db import connect, sqlalchemy_url
from app.store.migrations import downgrade_to_base, head_revision, upgrade_to_head
from app.store.schema import metadata


async def _tables(url: str) -> set[str]:
    conn = await connect(url)
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {r["tablename"] for r in rows}
    finally:
        await conn.close()


async def _schema_drift(url: str) -> list:
    engine = create_async_engine(sqlalchemy_url(url))
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
            )
    finally:
        await engine.dispose()


async def test_upgrade_downgrade_upgrade_on_an_empty_database(databases):
    url = await databases.create(migrated=False)
    assert await _tables(url) == set()
    await upgrade_to_head(url)
    assert {
        "events",
        "case_state",
        "closure_clock",
        "ledger_pba",
        "refused_claims",
        "api_keys",
    } <= await _tables(url)
    await downgrade_to_base(url)
    assert await _tables(url) == {"alembic_version"}
    await upgrade_to_head(url)
    conn = await connect(url)
    try:
        assert await conn.fetchval("SELECT version_num FROM alembic_version") == head_revision()
    finally:
        await conn.close()


async def test_autogenerate_finds_no_drift_between_migrations_and_schema(database_url):
    assert await _schema_drift(database_url) == []
