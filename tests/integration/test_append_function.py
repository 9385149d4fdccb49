"""`caseledger_append` defends the head itself: called directly with a wrong expected version
it refuses with SQLSTATE CL409 (DETAIL: the current version) and writes nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from app.domain.hashing import GENESIS
from app.store.appends import HEAD_MOVED_SQLSTATE, AppendCall
from app.store.queries import load_sql
from tests.builders import case_opened


def _call(case_id: str, expected_version: int) -> AppendCall:
    return AppendCall(
        case_id,
        expected_version,
        [uuid.uuid4()],
        ["CaseOpened"],
        [1],
        [case_opened()["data"]],
        [{}],
        [GENESIS],
        datetime.now(UTC),
        0,
        None,
        None,
        None,
        0,
    )


async def _written(conn: asyncpg.Connection, case_id: str) -> tuple[Any, ...]:
    events = await conn.fetchval("SELECT count(*) FROM events WHERE case_id = $1", case_id)
    head = await conn.fetchval("SELECT version FROM case_state WHERE case_id = $1", case_id)
    return events, head


async def _refused(conn: asyncpg.Connection, call: AppendCall) -> asyncpg.PostgresError:
    with pytest.raises(asyncpg.PostgresError) as raised:
        await conn.fetchval(load_sql("append"), *call)
    return raised.value


async def test_an_expected_version_on_an_unknown_case_is_refused_and_nothing_is_written(pool, case_id):
    async with pool.acquire() as conn:
        error = await _refused(conn, _call(case_id, 3))
        assert (error.sqlstate, error.detail) == (HEAD_MOVED_SQLSTATE, "0")
        assert await _written(conn, case_id) == (0, None)


async def test_a_stale_expected_version_is_refused_and_nothing_is_written(pool, case_id):
    async with pool.acquire() as conn:
        await conn.fetchval(load_sql("append"), *_call(case_id, 0))
        for stale in (0, 2):
            error = await _refused(conn, _call(case_id, stale))
            assert (error.sqlstate, error.detail) == (HEAD_MOVED_SQLSTATE, "1")
        assert await _written(conn, case_id) == (1, 1)


async def test_the_current_head_is_accepted(pool, case_id):
    async with pool.acquire() as conn:
        await conn.fetchval(load_sql("append"), *_call(case_id, 0))
        await conn.fetchval(load_sql("append"), *_call(case_id, 1)._replace(types=["IPEAmended"]))
        assert await _written(conn, case_id) == (2, 2)
