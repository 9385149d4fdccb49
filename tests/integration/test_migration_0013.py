"""Migration 0013 (issue 10): a snapshot too large for the row is moved out of `case_state`,
not compressed into it, so the rows a closure-clock read joins stay small (100,000 short
cases: 43 MB instead of 128 MB, inside the default shared_buffers); the downgrade
compresses such snapshots into the row again."""

from __future__ import annotations

import asyncio

from alembic import command
from app.store.db import connect
from app.store.migrations import alembic_config, upgrade_to_head
from tests.conftest import Databases

CASES = 300
CASE_STATE = (  # a case's snapshot above PostgreSQL's 2 kB TOAST threshold: about 3 kB of JSON
    "(SELECT jsonb_build_object('log', jsonb_agg(jsonb_build_object("
    "'event_id', md5(n::text || '/' || i), 'version', i, 'data', jsonb_build_object("
    "'type', 'EmploymentStarted', 'data', jsonb_build_object('employer', md5(i || '/' || n::text)))))"
    ") FROM generate_series(1, 16) AS i)"
)
STORE_CASES = (
    "INSERT INTO case_state (case_id, version, last_hash, last_recorded_at, state_version,"
    f" fold_version, state) SELECT $1 || n, 8, md5(n::text), now(), 8, 1, {CASE_STATE}"
    f" FROM generate_series(1, {CASES}) AS n"
)
HEAP_PAGES = "SELECT pg_relation_size('case_state', 'main') / current_setting('block_size')::int"
SNAPSHOT_BYTES = "SELECT avg(octet_length(state::text)) FROM case_state WHERE case_id LIKE $1 || '%'"


async def test_snapshots_leave_the_row_and_0013_goes_down_and_up(databases: Databases) -> None:
    url = await databases.create()
    conn = await connect(url)
    try:
        await conn.execute(STORE_CASES, "after-0013-")
        assert await conn.fetchval(SNAPSHOT_BYTES, "after-0013-") > 2500
        out_of_line = await conn.fetchval(HEAP_PAGES)
        assert out_of_line <= 8  # about 120 bytes a row: the head and a pointer

        await asyncio.to_thread(command.downgrade, alembic_config(url), "0012")
        await conn.execute(STORE_CASES, "after-downgrade-")
        in_line = await conn.fetchval(HEAP_PAGES) - out_of_line
        assert in_line >= 5 * out_of_line  # the same rows with their snapshots inside

        await upgrade_to_head(url)
        before = await conn.fetchval(HEAP_PAGES)
        await conn.execute(STORE_CASES, "after-upgrade-")
        assert await conn.fetchval(HEAP_PAGES) - before <= 8
        same = "SELECT count(DISTINCT state) FROM case_state WHERE case_id LIKE '%-1'"
        assert await conn.fetchval(same) == 1  # either layout reads back the same snapshot
    finally:
        await conn.close()
