"""The service's pool gives connections out in arrival order (app.store.db).

asyncpg's own pool lets whoever asks next take a released connection, before the
waiter it woke, which then queues again at the back: under load a few requests
waited many turns (closure-clock p99 28 ms against a mean of 8). Here a caller that
releases and at once asks again must queue behind everyone already waiting.
"""

from __future__ import annotations

import asyncio

from app.store.db import create_pool


async def test_a_released_connection_goes_to_the_longest_waiter(app_database_url: str) -> None:
    """Three requests wait for the one connection; as it is released, newcomers arrive in
    every event-loop step around the release (as requests do on a busy server)."""
    pool = await create_pool(app_database_url, min_size=1, max_size=1)
    served: list[str] = []

    async def reader(name: str, steps_late: int = 0) -> None:
        for _ in range(steps_late):
            await asyncio.sleep(0)
        async with pool.acquire() as conn:
            served.append(name)
            await conn.fetchval("SELECT 1")

    try:
        holder = await pool.acquire()
        waiting = [asyncio.create_task(reader(name)) for name in ("first", "second", "third")]
        await asyncio.sleep(0.1)  # all three are queued for the one connection
        newcomers = [asyncio.create_task(reader(f"newcomer {k}", k)) for k in range(12)]
        await pool.release(holder)
        await asyncio.gather(*waiting, *newcomers)
    finally:
        await pool.close()
    assert served[:3] == ["first", "second", "third"], served


async def test_a_wait_that_times_out_gives_its_turn_to_the_next(app_database_url: str) -> None:
    pool = await create_pool(app_database_url, min_size=1, max_size=1, acquire_timeout_s=0.2)
    try:
        async with pool.acquire():
            impatient = asyncio.create_task(pool.acquire(timeout=0.05).__aenter__())
            patient = asyncio.create_task(pool.acquire(timeout=5).__aenter__())
            await asyncio.sleep(0.1)
            assert impatient.done() and isinstance(impatient.exception(), TimeoutError)
        conn = await asyncio.wait_for(patient, 2)
        assert await conn.fetchval("SELECT 1") == 1
        await pool.release(conn)
        async with pool.acquire() as again:  # no turn was lost on the way
            assert await again.fetchval("SELECT 2") == 2
    finally:
        await pool.close()


async def test_a_second_release_gives_no_extra_turn(app_database_url: str) -> None:
    """asyncpg ignores a second release of a connection; so must the turns, or a caller
    would find "a turn free" with every connection out and wait without a bound."""
    pool = await create_pool(app_database_url, min_size=1, max_size=2, acquire_timeout_s=0.3)
    third: asyncio.Task[object] | None = None
    try:
        conn = await pool.acquire()
        await pool.release(conn)
        await pool.release(conn)
        async with pool.acquire(), pool.acquire():
            third = asyncio.create_task(pool.acquire().__aenter__())
            done, _ = await asyncio.wait({third}, timeout=5)
            assert third in done, "the third caller waited past its bound"
            assert isinstance(third.exception(), TimeoutError)
    finally:
        if third is not None and not third.done():
            third.cancel()
        pool.terminate()  # a stuck caller would otherwise hold close() up
