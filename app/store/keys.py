"""The api_keys table: the statements behind `app.service.keys`.

The service decides what a key is and who may hold one; this module only
stores and reads keys, by their SHA-256, never the key itself.
"""

from __future__ import annotations

import asyncpg

from app.store.pool import Pool
from app.store.queries import load_sql


async def insert_key(
    conn: asyncpg.Connection,
    *,
    key_id: str,
    key_hash: str,
    role: str,
    provider_id: str | None,
    label: str | None,
) -> None:
    await conn.execute(load_sql("keys/insert"), key_id, key_hash, role, provider_id, label)


async def revoke_key(conn: asyncpg.Connection, key_id: str) -> bool:
    """True when a live key was revoked now; False when none (unknown or already revoked)."""
    status = await conn.execute(load_sql("keys/revoke"), key_id)
    return status.endswith(" 1")


async def any_admin_key(conn: asyncpg.Connection) -> bool:
    return bool(await conn.fetchval(load_sql("keys/any_admin")))


async def list_keys(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Every key's id, role, provider, label and dates: never the key or its hash."""
    return await conn.fetch(load_sql("keys/list"))


async def principal_row(conn_source: Pool | asyncpg.Connection, key_hash: str) -> asyncpg.Record | None:
    """The key_id, role and provider_id of the live key with this hash."""
    return await conn_source.fetchrow(load_sql("keys/principal"), key_hash)
