"""The functions that run as the owner are the app role's alone (migration 0010).

A SECURITY DEFINER function writes what its caller may not. 0008 left two of them,
`caseledger_put_data_key` and `caseledger_record_access` (since 0012
`caseledger_record_access_batch`), executable by PUBLIC: any role
that could connect to the database could give a case a data key of its choosing or write
forged access records into the chain. Tried here as such a role would, and checked over
the catalogue for every such function, so a later one cannot slip back.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from app.store.db import connect
from app.store.pool import Pool
from app.store.privileges import app_role_url

FORGERIES = {
    "access_record": (  # would continue an empty chain (a stranger cannot read the head)
        "SELECT caseledger_record_access_batch(repeat('0', 64), 'forged', 1, now(), now(),"
        " ARRAY['c'], ARRAY['x'], $1)"
    ),
    "data_key": "SELECT caseledger_put_data_key($1, '\\x00'::bytea, 'forged')",
}


@pytest.fixture
async def stranger(owner_pool: Pool, database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A login role that may use the schema (so only the functions' own grants stand in its
    way) but is neither the owner nor the service's app role."""
    name = f"stranger_{uuid.uuid4().hex[:8]}"
    async with owner_pool.acquire() as conn:
        schema = await conn.fetchval("SELECT current_schema()")
        await conn.execute(f'CREATE ROLE "{name}" LOGIN')
        await conn.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO "{name}"')
    conn = await connect(app_role_url(database_url, role=name))
    try:
        yield conn
    finally:
        await conn.close()
        async with owner_pool.acquire() as owner:
            await owner.execute(f'REVOKE USAGE ON SCHEMA "{schema}" FROM "{name}"')
            await owner.execute(f'DROP ROLE "{name}"')


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
async def test_a_role_that_is_not_the_service_cannot_call_them(
    stranger: asyncpg.Connection, owner_pool: Pool, forgery: str
) -> None:
    argument = '[{"at": "2026-01-01T00:00:00Z", "case_ids": ["c"], "endpoint": "GET /x", "status": 200}]'
    async with owner_pool.acquire() as owner:
        records_before = await owner.fetchval("SELECT count(*) FROM access_log")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await stranger.fetchval(FORGERIES[forgery], argument if forgery == "access_record" else "forged-case")
    async with owner_pool.acquire() as owner:
        assert await owner.fetchval("SELECT count(*) FROM access_log") == records_before
        assert await owner.fetchval("SELECT count(*) FROM case_data_keys WHERE case_id = 'forged-case'") == 0


async def test_every_definer_function_pins_its_search_path_and_is_not_public(
    owner_pool: Pool,
) -> None:
    async with owner_pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT p.proname, p.proconfig, has_function_privilege('public', p.oid, 'EXECUTE') AS public"
            "  FROM pg_proc AS p WHERE p.prosecdef AND p.pronamespace = current_schema()::regnamespace"
        )
    found = {row["proname"]: row for row in rows}
    assert {"caseledger_append", "caseledger_put_data_key", "caseledger_record_access_batch"} <= found.keys()
    for name, row in found.items():
        assert not row["public"], f"{name} is executable by PUBLIC"
        assert any(s.startswith("search_path=pg_catalog,") for s in row["proconfig"] or ()), name
