"""Database URLs and the asyncpg pool the service runs on.

SQLAlchemy Core describes the schema and drives Alembic; the request path talks
to PostgreSQL through one asyncpg pool, because the append path is measured
against raw asyncpg and every layer between costs round-trip time.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import orjson

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


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Pool release without asyncpg's default reset round trip (RESET ALL, UNLISTEN *...).

    Pooled connections never change session state: no SET, no LISTEN, and only
    transaction-scoped advisory locks; an open transaction is still rolled back
    by the pool itself before this runs.
    """


class _BoundedPool(asyncpg.Pool):
    """A pool whose waits are bounded when no timeout is given, and served in arrival order.

    asyncpg waits without limit by default in two places that a database that
    hangs (stopped process, lost network) turns into a hung request: `acquire()`
    while every connection is busy, and `release()` of a connection whose query
    timed out, until the server acknowledges the cancel request. Here `acquire()`
    waits at most `acquire_timeout` and `release()` at most `release_timeout`
    (then the connection is terminated, never reused): the request fails with
    TimeoutError, which the service answers with 503 `database_unavailable`.

    asyncpg hands a released connection to whoever asks next in the event loop, not to
    the longest waiter (its queue lets a newcomer take a connection before the waiter it
    just woke, which then queues again at the back): with 32 readers on 10 connections
    a few requests waited many turns, and the closure-clock p99 was 28 ms against a
    mean of 8. `_turns` (a FIFO semaphore, one turn per connection) gives the connections
    out first come, first served; a turn comes back only with the connection it was for.
    """

    def __init__(
        self, *args: Any, acquire_timeout: float | None, release_timeout: float, **kwargs: Any
    ) -> None:
        self._acquire_timeout = acquire_timeout
        self._release_timeout = release_timeout
        self._turns = asyncio.Semaphore(kwargs["max_size"])  # FIFO: a release wakes the first waiter
        self._lent: set[Any] = set()  # the connections out, each holding a turn
        super().__init__(*args, **kwargs)

    def acquire(self, *, timeout: float | None = None) -> _Turn:
        return _Turn(self, self._acquire_timeout if timeout is None else timeout)

    async def release(self, connection: Any, *, timeout: float | None = None) -> None:  # noqa: ASYNC109 (asyncpg's signature)
        # A second release, or one of a connection this pool did not lend, returns no turn:
        # a turn too many would let a caller wait in asyncpg's queue without a bound.
        lent = connection in self._lent
        self._lent.discard(connection)
        try:
            await super().release(connection, timeout=self._release_timeout if timeout is None else timeout)
        finally:
            if lent:
                self._turns.release()

    async def _connection_in_turn(self, wait_s: float | None) -> asyncpg.Connection:
        """Wait for this caller's turn, then take the connection the turn guarantees, within
        one bound for both."""
        if not self._turns.locked():
            # A connection is free and nobody waits: no timeout machinery (about 10 µs a
            # request); a reconnect is still bounded by the connect timeout.
            await self._turns.acquire()
            return await self._lend()
        async with asyncio.timeout(wait_s):
            await self._turns.acquire()
            return await self._lend()

    async def _lend(self) -> asyncpg.Connection:
        """The connection a turn guarantees; a failure gives the turn back (or it would be
        lost to every later caller)."""
        try:
            connection = await self._take()
        except BaseException:
            self._turns.release()
            raise
        self._lent.add(connection)
        return connection

    async def _take(self) -> asyncpg.Connection:
        """asyncpg's own acquire: with a turn held, a connection is free or being made."""
        return await super().acquire()  # type: ignore[no-any-return]


class _Turn:
    """`async with pool.acquire() as conn` (or `conn = await pool.acquire()`, then
    `await pool.release(conn)`), in arrival order."""

    __slots__ = ("_connection", "_pool", "_timeout")

    def __init__(self, pool: _BoundedPool, timeout: float | None) -> None:
        self._pool, self._timeout = pool, timeout
        self._connection: asyncpg.Connection | None = None

    def __await__(self) -> Any:
        return self._pool._connection_in_turn(self._timeout).__await__()

    async def __aenter__(self) -> asyncpg.Connection:
        self._connection = await self._pool._connection_in_turn(self._timeout)
        return self._connection

    async def __aexit__(self, *exc: object) -> None:
        connection, self._connection = self._connection, None
        await self._pool.release(connection)


async def create_pool(
    url: str,
    *,
    min_size: int = 2,
    max_size: int = 10,
    statement_timeout_ms: int = 5000,
    connect_timeout_s: float = 3.0,
    acquire_timeout_s: float | None = None,
) -> asyncpg.Pool:
    """The pool; every wait on the database is bounded (a dead or hung server gives errors, not hangs).

    - connect: `connect_timeout_s` per new connection;
    - a statement: PostgreSQL's `statement_timeout`, and on the client `command_timeout`
      one second later (for a server that no longer answers at all);
    - acquire: `acquire_timeout_s` (default: the larger of the connect and statement timeouts);
    - release after a timed-out statement: `connect_timeout_s` for the cancel request.
    A `statement_timeout_ms` of 0 (none) leaves statements and acquire unbounded.
    """
    dsn, options = asyncpg_dsn(url)
    statement_timeout_s = statement_timeout_ms / 1000 if statement_timeout_ms > 0 else None
    if acquire_timeout_s is None and statement_timeout_s is not None:
        acquire_timeout_s = max(connect_timeout_s, statement_timeout_s)
    pool = _BoundedPool(
        dsn,
        acquire_timeout=acquire_timeout_s,
        release_timeout=connect_timeout_s,
        min_size=min_size,
        max_size=max_size,
        max_queries=50000,
        max_inactive_connection_lifetime=300.0,
        init=_init_connection,
        reset=_keep_session,
        loop=None,
        connection_class=asyncpg.Connection,
        record_class=asyncpg.Record,
        timeout=connect_timeout_s,
        command_timeout=statement_timeout_s + 1 if statement_timeout_s is not None else None,
        server_settings={
            "statement_timeout": str(statement_timeout_ms),
            "application_name": "caseledger",
        },
        **options,
    )
    await pool
    return pool


async def connect(url: str) -> asyncpg.Connection:
    dsn, options = asyncpg_dsn(url)
    conn = await asyncpg.connect(dsn, **options)
    await _init_connection(conn)
    return conn
