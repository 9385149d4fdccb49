"""Database URLs and the asyncpg pool the service runs on.

SQLAlchemy Core describes the schema and drives Alembic; the request path talks
to PostgreSQL through one asyncpg pool, because the append path is measured
against raw asyncpg and every layer between costs round-trip time.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson


def asyncpg_dsn(url: str) -> tuple[str, dict[str, Any]]:
    """asyncpg's DSN for an SQLAlchemy URL (`postgresql+asyncpg://user@/db?host=/socket`)."""
    return "postgresql://" + url.split("://", 1)[1], {}


def sqlalchemy_url(url: str) -> str:
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    return url


async def _init_connection(conn: asyncpg.Connection) -> None:
    for name in ("jsonb", "json"):
        await conn.set_type_codec(
            name,
            encoder=lambda v: v if isinstance(v, str) else orjson.dumps(v).decode(),
            decoder=orjson.loads,
            schema="pg_catalog",
        )


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Pool release without asyncpg's default reset round trip (RESET ALL, UNLISTEN *...).

    Pooled connections never change session state: no SET, no LISTEN, and only
    transaction-scoped advisory locks; an open transaction is still rolled back
    by the pool itself before this runs.
    """


async def create_pool(
    url: str, *, min_size: int = 2, max_size: int = 10, statement_timeout_ms: int = 5000,
    connect_timeout_s: float = 3.0,
) -> asyncpg.Pool:
    dsn, options = asyncpg_dsn(url)
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        reset=_keep_session,
        timeout=connect_timeout_s,
        command_timeout=max(statement_timeout_ms / 1000 * 2, 10),
        server_settings={
            "statement_timeout": str(statement_timeout_ms),
            "application_name": "caseledger",
        },
        **options,
    )
    assert pool is not None
    return pool


async def connect(url: str) -> asyncpg.Connection:
    dsn, options = asyncpg_dsn(url)
    conn = await asyncpg.connect(dsn, **options)
    await _init_connection(conn)
    return conn
