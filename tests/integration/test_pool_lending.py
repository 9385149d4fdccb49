"""What the service's pool (app.store.pool) lends again and what it does not.

A connection is a PostgreSQL backend with a process id (`pg_backend_pid()`): the same
pid on the next lease means the same connection was lent again.
"""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from app.store.db import connect, create_pool
from app.store.pool import Pool

PID = "SELECT pg_backend_pid()"


async def small_pool(url: str, **settings: float) -> Pool:
    """A pool of the app's connections with `settings` (max_uses, idle_lifetime_s...) set."""
    limits: dict[str, float] = {"min_size": 1, "max_size": 1, "acquire_timeout": 5, "release_timeout": 1}
    return await Pool(lambda: connect(url), **{**limits, **settings}).start()  # type: ignore[arg-type]


async def test_a_free_connection_is_lent_again(app_database_url: str) -> None:
    pool = await create_pool(app_database_url, min_size=1, max_size=1)
    try:
        first = await pool.fetchval(PID)
        assert await pool.fetchval(PID) == first
    finally:
        await pool.close()


async def test_a_statement_that_timed_out_leaves_its_connection_unlent(app_database_url: str) -> None:
    """The client gave up on the statement: asyncpg asks the server to cancel it, and the
    connection may still wait for that; the next caller gets a new connection at once."""
    pool = await create_pool(app_database_url, min_size=1, max_size=1)
    try:
        with pytest.raises(TimeoutError):
            async with pool.acquire() as conn:
                first = await conn.fetchval(PID)
                await conn.fetchval("SELECT pg_sleep(5)", timeout=0.1)
        async with asyncio.timeout(3):
            assert await pool.fetchval(PID) != first
    finally:
        await pool.close()


async def test_a_cancelled_caller_leaves_its_connection_unlent(app_database_url: str) -> None:
    pool = await create_pool(app_database_url, min_size=1, max_size=1)
    started = asyncio.Event()

    async def slow() -> None:
        async with pool.acquire() as conn:
            started.set()
            await conn.fetchval("SELECT pg_sleep(5)")

    try:
        first = await pool.fetchval(PID)
        task = asyncio.create_task(slow())
        await started.wait()
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        async with asyncio.timeout(3):
            assert await pool.fetchval(PID) != first
    finally:
        await pool.close()


async def test_an_open_transaction_is_rolled_back_before_the_next_lease(app_database_url: str) -> None:
    pool = await create_pool(app_database_url, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            await conn.execute("BEGIN")
            await conn.execute("CREATE TEMPORARY TABLE left_open (x int)")
            first = await conn.fetchval(PID)
        async with pool.acquire() as again:
            assert await again.fetchval(PID) == first  # the same connection, kept
            assert not again.is_in_transaction()
            assert await again.fetchval("SELECT to_regclass('pg_temp.left_open')") is None
    finally:
        await pool.close()


async def test_a_constraint_error_keeps_the_connection(app_database_url: str) -> None:
    pool = await create_pool(app_database_url, min_size=1, max_size=1)
    try:
        with pytest.raises(asyncpg.DivisionByZeroError):
            async with pool.acquire() as conn:
                first = await conn.fetchval(PID)
                await conn.fetchval("SELECT 1 / 0")
        assert await pool.fetchval(PID) == first
    finally:
        await pool.close()


async def test_a_connection_is_replaced_after_its_uses(app_database_url: str) -> None:
    pool = await small_pool(app_database_url, max_uses=3)
    try:
        pids = [await pool.fetchval(PID) for _ in range(4)]
        assert pids[0] == pids[1] == pids[2] != pids[3]
    finally:
        await pool.close()


async def test_a_connection_idle_too_long_beyond_the_first_is_closed(app_database_url: str) -> None:
    pool = await small_pool(app_database_url, max_size=2, idle_lifetime_s=0.05)
    try:
        a, b = await pool.acquire(), await pool.acquire()
        await pool.release(a)
        await asyncio.sleep(0.1)
        await pool.release(b)  # a has been idle past its lifetime: closed, b stays
        for _ in range(300):  # closed in the background, gracefully
            if a.is_closed():
                break
            await asyncio.sleep(0.01)
        assert a.is_closed() and not b.is_closed()
        assert await pool.fetchval("SELECT 1") == 1
    finally:
        await pool.close()


async def test_a_failed_connect_gives_its_room_back(app_database_url: str) -> None:
    """The database refused once (down, restarting): the next caller may connect again."""
    attempts = 0

    async def flaky() -> asyncpg.Connection:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise ConnectionRefusedError("the database is restarting")
        return await connect(app_database_url)

    pool = await Pool(flaky, min_size=0, max_size=1, acquire_timeout=1, release_timeout=1).start()
    try:
        with pytest.raises(ConnectionRefusedError):
            await pool.fetchval("SELECT 1")
        assert await pool.fetchval("SELECT 1") == 1
    finally:
        await pool.close()


async def test_close_refuses_new_callers_and_waits_for_the_lent(app_database_url: str) -> None:
    pool = await create_pool(app_database_url, min_size=1, max_size=2)
    conn = await pool.acquire()
    closing = asyncio.create_task(pool.close())
    await asyncio.sleep(0.05)
    assert not closing.done()  # the lent connection is still in use
    with pytest.raises(asyncpg.InterfaceError):
        await pool.acquire()
    assert await conn.fetchval("SELECT 1") == 1
    await pool.release(conn)
    async with asyncio.timeout(3):
        await closing
    assert conn.is_closed()
