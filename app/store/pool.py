"""The service's connection pool: connections lent first come, first served, every wait bounded.

Why not asyncpg's own pool: lending and taking back one of its connections cost about
30 µs of CPU a request under load (a queue coroutine and a proxy object per lease; a
shielded task, a timeout and a re-armed timer per release), more than half of what a
one-row statement costs; here a free connection comes off a stack and goes back on it,
about 2 µs (docs/performance.md, issue 10, "Ninth session"). Its queue also let a
newcomer take a released connection before the waiter it had just woken (closure-clock
p99 28 ms against a mean of 8): here a released connection goes to the longest waiter.

What it keeps of asyncpg's: a bounded number of connections, opened on demand; a
connection that broke, timed out or was cancelled is never lent again (it is closed once
the server has acknowledged the cancel); an open transaction is rolled back before the
connection is lent again; a connection is replaced after `max_uses` leases, and closed
when idle longer than `idle_lifetime_s` beyond the first `min_size`. Every wait is
bounded: acquire by `acquire_timeout` (a connect included), a rollback or a cancel's
acknowledgement by `release_timeout`. Pooled connections never change session state (no
SET, no LISTEN, only transaction-scoped advisory locks), so nothing else is reset.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

# An exception that leaves a connection unfit to lend again: a client-side timeout or a
# cancelled task (asyncpg sends the server a cancel and the connection waits for it), a
# broken connection. Any other error (a constraint, a domain error) leaves it as it was.
_UNFIT = (
    TimeoutError,
    asyncio.CancelledError,
    OSError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    asyncpg.PostgresConnectionError,
)
_SLOT = object()  # handed to a waiter instead of a connection: "open one, there is room"


class Pool:
    """`async with pool.acquire() as conn` (or `conn = await pool.acquire()`, then
    `await pool.release(conn)`), in arrival order; see the module's docstring."""

    def __init__(
        self,
        connect: Callable[[], Awaitable[asyncpg.Connection]],
        *,
        min_size: int,
        max_size: int,
        acquire_timeout: float | None,
        release_timeout: float,
        max_uses: int = 50_000,
        idle_lifetime_s: float = 300.0,
    ) -> None:
        self._connect, self._min, self._max = connect, min_size, max_size
        self._acquire_timeout, self._release_timeout = acquire_timeout, release_timeout
        self._max_uses, self._idle_lifetime_s = max_uses, idle_lifetime_s
        self._idle: deque[tuple[asyncpg.Connection, float]] = deque()  # a stack: the warmest on top
        self._waiters: deque[asyncio.Future[Any]] = deque()
        self._lent: dict[asyncpg.Connection, int] = {}  # connection -> leases so far
        self._uses: dict[asyncpg.Connection, int] = {}  # of the idle ones
        self._size = 0  # connections open, being opened or promised to a waiter
        self._closing = False
        self._all_back: asyncio.Event | None = None
        self._closers: set[asyncio.Task[None]] = set()

    async def start(self) -> Pool:
        """Open the first `min_size` connections; a failure closes those and raises."""
        self._size += self._min
        results = await asyncio.gather(*(self._connect() for _ in range(self._min)), return_exceptions=True)
        failed = [r for r in results if isinstance(r, BaseException)]
        opened = [r for r in results if not isinstance(r, BaseException)]
        if failed:
            self._size -= self._min
            for conn in opened:
                conn.terminate()
            raise failed[0]
        now = time.monotonic()
        for conn in opened:
            self._idle.append((conn, now))
            self._uses[conn] = 0
        return self

    def acquire(self, *, timeout: float | None = None) -> Lease:
        return Lease(self, self._acquire_timeout if timeout is None else timeout)

    async def take(self, wait_s: float | None) -> asyncpg.Connection:
        """A connection: a free one at once when nobody waits, else in arrival order."""
        if self._closing:
            raise asyncpg.InterfaceError("pool is closing")
        if not self._waiters:
            if self._idle:
                conn = self._idle.pop()[0]
                self._lent[conn] = self._uses.pop(conn) + 1
                return conn
            if self._size < self._max:
                self._size += 1
                async with asyncio.timeout(wait_s):
                    return await self._open()
        return await self._wait_turn(wait_s)

    async def _wait_turn(self, wait_s: float | None) -> asyncpg.Connection:
        """Wait in line, at most `wait_s` in all (a timer on the turn itself: an
        `asyncio.timeout` per wait cost 6 µs of the busy server's requests)."""
        loop = asyncio.get_running_loop()
        turn: asyncio.Future[Any] = loop.create_future()
        self._waiters.append(turn)
        deadline = None if wait_s is None else loop.time() + wait_s
        timer = None if deadline is None else loop.call_at(deadline, _expire, turn)
        try:
            got = await turn
        except BaseException:
            if turn.done() and not turn.cancelled() and turn.exception() is None:
                self._hand_on(turn.result())  # given just as it gave up: to the next one
            else:
                turn.cancel()
                with contextlib.suppress(ValueError):
                    self._waiters.remove(turn)
            raise
        finally:
            if timer is not None:
                timer.cancel()
        if got is _SLOT:
            async with asyncio.timeout_at(deadline):
                return await self._open()
        self._lent[got] = self._uses.pop(got) + 1
        return got  # type: ignore[no-any-return]

    async def _open(self) -> asyncpg.Connection:
        """A new connection in a slot already counted in `_size`; a failure frees the slot."""
        try:
            conn = await self._connect()
        except BaseException:
            self._hand_on(_SLOT)
            raise
        self._lent[conn] = 1
        return conn

    async def release(self, conn: asyncpg.Connection, *, unfit: bool = False) -> None:
        """Take a lent connection back (a second release does nothing); `unfit`: never lend
        it again (the caller saw it time out, break or get cancelled)."""
        uses = self._lent.pop(conn, None)
        if uses is None:
            return
        try:
            if conn.is_closed():
                conn.terminate()
                self._hand_on(_SLOT)
            elif unfit:
                # Shielded: a caller cancelled again still leaves the connection settled.
                await asyncio.shield(self._settle(conn))
            elif uses >= self._max_uses or self._closing:
                self._retire(conn)
            elif conn.is_in_transaction():
                await self._roll_back(conn, uses)
            else:
                self._uses[conn] = uses
                self._hand_on(conn)
        finally:
            if self._all_back is not None and not self._lent:
                self._all_back.set()

    async def _settle(self, conn: asyncpg.Connection) -> None:
        """Close a connection whose caller gave up on a statement, once the server has
        acknowledged the cancel asyncpg sent (its next statement waits for that), within
        `release_timeout`. Closing at once would drop the cancel with the socket, and a
        statement blocked on a lock would then carry on and commit what its caller was
        told had failed (tests/faults/test_idempotent_retry.py)."""
        try:
            async with asyncio.timeout(self._release_timeout):
                await conn.fetchval("SELECT 1")
        except asyncpg.PostgresError:
            pass  # the cancel was acknowledged; its transaction failed, and closing ends it
        except BaseException:
            conn.terminate()  # no answer in time (asyncpg may have closed it already)
            self._hand_on(_SLOT)
            return
        self._retire(conn)

    async def _roll_back(self, conn: asyncpg.Connection, uses: int) -> None:
        try:
            async with asyncio.timeout(self._release_timeout):
                await conn.execute("ROLLBACK")
        except BaseException:
            conn.terminate()
            self._hand_on(_SLOT)
            raise
        self._uses[conn] = uses
        self._hand_on(conn)

    def _hand_on(self, item: Any) -> None:
        """A connection (or a slot) to the longest waiter still waiting, else back to the pool."""
        while self._waiters:
            turn = self._waiters.popleft()
            if not turn.done():
                turn.set_result(item)
                return
        if item is _SLOT:
            self._size -= 1
            return
        now = time.monotonic()
        self._idle.append((item, now))
        if len(self._idle) > self._min and now - self._idle[0][1] > self._idle_lifetime_s:
            self._retire(self._idle.popleft()[0])  # the least recently used, idle too long

    def _retire(self, conn: asyncpg.Connection) -> None:
        """Close a healthy connection in the background (a graceful goodbye), freeing its slot."""
        self._uses.pop(conn, None)
        self._hand_on(_SLOT)
        task = asyncio.get_running_loop().create_task(self._close_one(conn))
        self._closers.add(task)
        task.add_done_callback(self._closers.discard)

    async def _close_one(self, conn: asyncpg.Connection) -> None:
        try:
            await conn.close(timeout=self._release_timeout)
        except BaseException:
            conn.terminate()

    async def close(self, *, wait_s: float = 30.0) -> None:
        """Refuse new callers, wait (at most `wait_s`) for the lent connections, close all."""
        self._closing = True
        self._fail_waiters()
        if self._lent:
            self._all_back = asyncio.Event()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait_s):
                    await self._all_back.wait()
        for conn in list(self._lent):
            conn.terminate()
        idle, self._idle = list(self._idle), deque()
        await asyncio.gather(*(self._close_one(conn) for conn, _ in idle))
        if self._closers:
            await asyncio.gather(*self._closers, return_exceptions=True)

    def terminate(self) -> None:
        """Close every connection at once, lent or not (a stuck caller cannot hold this up)."""
        self._closing = True
        self._fail_waiters()
        for conn in [*self._lent, *(c for c, _ in self._idle)]:
            conn.terminate()
        self._idle.clear()

    def _fail_waiters(self) -> None:
        while self._waiters:
            turn = self._waiters.popleft()
            if not turn.done():
                turn.set_exception(asyncpg.InterfaceError("pool is closing"))

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        async with self.acquire() as conn:
            return await conn.fetchrow(query, *args)

    async def fetchval(self, query: str, *args: Any) -> Any:
        async with self.acquire() as conn:
            return await conn.fetchval(query, *args)

    async def execute(self, query: str, *args: Any) -> str:
        async with self.acquire() as conn:
            return await conn.execute(query, *args)  # type: ignore[no-any-return]


def _expire(turn: asyncio.Future[Any]) -> None:
    if not turn.done():
        turn.set_exception(TimeoutError())


class Lease:
    """One `acquire()`: awaited, the connection; as a context, released on the way out
    (unfit to lend again when the block ended in a timeout, a cancel or a broken connection)."""

    __slots__ = ("_conn", "_pool", "_timeout")

    def __init__(self, pool: Pool, timeout: float | None) -> None:
        self._pool, self._timeout = pool, timeout
        self._conn: asyncpg.Connection | None = None

    def __await__(self) -> Any:
        return self._pool.take(self._timeout).__await__()

    async def __aenter__(self) -> asyncpg.Connection:
        self._conn = await self._pool.take(self._timeout)
        return self._conn

    async def __aexit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await self._pool.release(conn, unfit=exc_type is not None and issubclass(exc_type, _UNFIT))
