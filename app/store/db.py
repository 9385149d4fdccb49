"""Database URLs and the pool of asyncpg connections the service runs on.

SQLAlchemy Core describes the schema and drives Alembic; the request path talks
to PostgreSQL through asyncpg connections lent by one pool (`app.store.pool`),
because the append path is measured against raw asyncpg and every layer between
costs round-trip time.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import asyncpg
import orjson

from app.store.pool import Pool

# What a database that is down, restarting or hung raises (answered 503, never 500):
# OperatorInterventionError covers 57P01 admin_shutdown and 57P02 crash_shutdown (the
# server stops under a running statement), 57P03 cannot_connect_now (starting up or
# shutting down) and 57014 query_canceled (statement_timeout); InternalClientError is what
# asyncpg raises on a pooled connection that received the server's FATAL shutdown message
# while idle ("cannot switch to state ..."); TimeoutError: connect, acquire or command
# timeout (this module bounds each). The service's background loops (access record,
# checkpoint signer, policy watcher) keep going through these and any PostgresError.
DATABASE_DOWN = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.OperatorInterventionError,
    asyncpg.InternalClientError,
    asyncpg.TooManyConnectionsError,
    TimeoutError,
)


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


async def create_pool(
    url: str,
    *,
    min_size: int = 2,
    max_size: int = 10,
    statement_timeout_ms: int = 5000,
    connect_timeout_s: float = 3.0,
    acquire_timeout_s: float | None = None,
) -> Pool:
    """The pool (`app.store.pool`); every wait on the database is bounded (a dead or hung
    server gives errors, not hangs).

    - connect: `connect_timeout_s` per new connection;
    - a statement: PostgreSQL's `statement_timeout`, and on the client `command_timeout`
      one second later (for a server that no longer answers at all);
    - acquire: `acquire_timeout_s` (default: the larger of the connect and statement timeouts);
    - release: a connection whose statement timed out is closed, never lent again; one
      left in a transaction is rolled back within `connect_timeout_s`.
    A `statement_timeout_ms` of 0 (none) leaves statements and acquire unbounded.
    """
    statement_timeout_s = statement_timeout_ms / 1000 if statement_timeout_ms > 0 else None
    if acquire_timeout_s is None and statement_timeout_s is not None:
        acquire_timeout_s = max(connect_timeout_s, statement_timeout_s)

    open_connection = partial(
        connect,
        url,
        timeout=connect_timeout_s,
        command_timeout=statement_timeout_s + 1 if statement_timeout_s is not None else None,
        server_settings={"statement_timeout": str(statement_timeout_ms), "application_name": "caseledger"},
    )
    pool = Pool(
        open_connection,
        min_size=min_size,
        max_size=max_size,
        acquire_timeout=acquire_timeout_s,
        release_timeout=connect_timeout_s,
    )
    return await pool.start()


async def connect(url: str, **settings: Any) -> asyncpg.Connection:
    """One connection with the service's JSON codecs; `settings` are asyncpg.connect's
    (timeouts, server settings). A connection whose codecs could not be set is closed."""
    dsn, options = asyncpg_dsn(url)
    conn = await asyncpg.connect(dsn, **options, **settings)
    try:
        await _init_connection(conn)
    except BaseException:
        conn.terminate()
        raise
    return conn
