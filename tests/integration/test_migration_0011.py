"""Migration 0011 (issue 16): snapshots are stored with lz4 where the server has it, and
the column goes back to the default compression on a downgrade, old values still read."""

from __future__ import annotations

import asyncio

from alembic import command
from app.store.db import connect
from app.store.migrations import alembic_config, upgrade_to_head
from tests.conftest import Databases

BIG_STATE = (  # a snapshot's shape: a log of small, alike events (tens of kB, compressible)
    "SELECT jsonb_build_object('log', (SELECT jsonb_agg(jsonb_build_object("
    "'type', 'AuthorizationPaid', 'version', i, 'data', jsonb_build_object('amount', '640.00')))"
    " FROM generate_series(1, 2000) AS i))"
)
STORE = (
    "INSERT INTO case_state (case_id, version, last_hash, last_recorded_at, state_version,"
    f" fold_version, state) VALUES ($1, 1, 'h', now(), 1, 1, ({BIG_STATE}))"
)
METHOD = "SELECT pg_column_compression(state) FROM case_state WHERE case_id = $1"
HAS_LZ4 = "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"


async def test_snapshots_are_stored_with_lz4_and_0011_goes_down_and_up(databases: Databases) -> None:
    url = await databases.create()
    conn = await connect(url)
    try:
        has_lz4 = await conn.fetchval(HAS_LZ4)
        await conn.execute(STORE, "after-0011")
        assert await conn.fetchval(METHOD, "after-0011") == ("lz4" if has_lz4 else "pglz")
        await asyncio.to_thread(command.downgrade, alembic_config(url), "0010")
        await conn.execute(STORE, "after-downgrade")
        default = await conn.fetchval("SHOW default_toast_compression")
        assert await conn.fetchval(METHOD, "after-downgrade") == default
        same = f"SELECT state = ({BIG_STATE}) FROM case_state WHERE case_id = $1"
        assert await conn.fetchval(same, "after-0011")  # an lz4 value still reads after the downgrade
        await upgrade_to_head(url)
        await conn.execute(STORE, "after-upgrade")
        assert await conn.fetchval(METHOD, "after-upgrade") == ("lz4" if has_lz4 else "pglz")
    finally:
        await conn.close()
