"""The wrapped per-case data keys (`case_data_keys`): give a case its key, read it, destroy it."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from app.store.queries import load_sql

NEVER_SEALED = b""  # no row: the case was written before sealing (its values are clear)


async def put_or_get(
    conn: asyncpg.Connection, case_id: str, wrapped: bytes, master_key_id: str
) -> bytes | None:
    """The case's stored wrapped key: `wrapped` when the case had none, else the one stored
    (None when it was destroyed)."""
    return await conn.fetchval("SELECT caseledger_put_data_key($1, $2, $3)", case_id, wrapped, master_key_id)


async def put_or_get_many(
    conn: asyncpg.Connection, fresh: dict[str, bytes], master_key_id: str
) -> dict[str, bytes | None]:
    """`put_or_get` for many cases in one round trip (an import batch): case -> stored key."""
    rows = await conn.fetch(
        load_sql("data_keys/put_or_get_many"), list(fresh), list(fresh.values()), master_key_id
    )
    return {r["case_id"]: r["wrapped"] for r in rows}


async def wrapped_key(conn: asyncpg.Connection, case_id: str) -> bytes | None:
    """The case's wrapped key; None once destroyed; `NEVER_SEALED` when it never had one."""
    row = await conn.fetchrow("SELECT wrapped FROM case_data_keys WHERE case_id = $1", case_id)
    return NEVER_SEALED if row is None else row["wrapped"]


async def destroy(conn: asyncpg.Connection, case_id: str, at: datetime) -> bool:
    """Clear the case's wrapped key (operator command: runs as the tables' owner)."""
    return await conn.execute(load_sql("data_keys/destroy"), case_id, at) != "UPDATE 0"
