"""What `/readyz` asks the database: the schema revision it is at.

Beside `migrations.head_revision` (what the code expects); a separate module so
the readiness read stays one small, time-bounded statement.
"""

from __future__ import annotations

import asyncpg


async def schema_revision(conn: asyncpg.Connection, *, within_seconds: float) -> str | None:
    """The alembic revision the database's schema is at."""
    return await conn.fetchval("SELECT version_num FROM alembic_version", timeout=within_seconds)
