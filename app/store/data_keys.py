"""The wrapped per-case data keys (`case_data_keys`): give a case its key, read it, destroy it."""

from __future__ import annotations

from datetime import datetime
from functools import cache

import asyncpg

from app.store.appends import AppendCall, lost_race
from app.store.queries import load_sql

NEVER_SEALED = b""  # no row: the case was written before sealing (its values are clear)


async def put_or_get(
    conn: asyncpg.Connection, case_id: str, wrapped: bytes, master_key_id: str
) -> bytes | None:
    """The case's stored wrapped key: `wrapped` when the case had none, else the one stored
    (None when it was destroyed)."""
    return await conn.fetchval("SELECT caseledger_put_data_key($1, $2, $3)", case_id, wrapped, master_key_id)


async def put_with_append(
    conn: asyncpg.Connection, call: AppendCall, wrapped: bytes, master_key_id: str
) -> tuple[bytes | None, list[int] | None]:
    """`put_or_get` and `appends.write` in one statement (one round trip): the stored key,
    and each event's position when the key stored is `wrapped` (else None: nothing was
    written). Raises `appends.LostRace`, and then the key is not stored either."""
    try:
        row = await conn.fetchrow(_put_with_append_sql(), *call, wrapped, master_key_id)
    except asyncpg.PostgresError as exc:
        raise (lost_race(exc) or exc) from exc
    base = row["base"]
    positions = None if base is None else [base + i for i in range(1, len(call.event_ids) + 1)]
    return row["wrapped"], positions


@cache
def _put_with_append_sql() -> str:
    """put_with_append.sql around append.sql as it is, with the two parameters after its own."""
    n = len(AppendCall._fields)
    template = load_sql("data_keys/put_with_append")
    return template.format(append=load_sql("append"), wrapped=n + 1, key=n + 2)


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


async def wrapped_keys(conn: asyncpg.Connection, case_ids: list[str]) -> dict[str, bytes | None]:
    """The wrapped keys of the cases that have a row (None: destroyed), in one query; a case
    missing from the answer never had one."""
    rows = await conn.fetch("SELECT case_id, wrapped FROM case_data_keys WHERE case_id = ANY($1)", case_ids)
    return {r["case_id"]: r["wrapped"] for r in rows}


async def destroy(conn: asyncpg.Connection, case_id: str, at: datetime) -> bool:
    """Clear the case's wrapped key (as the tables' owner, e.g. a test; the retention run
    uses `destroy_recorded`)."""
    return await conn.execute(load_sql("data_keys/destroy"), case_id, at) != "UPDATE 0"


async def destroy_recorded(conn: asyncpg.Connection, case_ids: list[str], at: datetime) -> list[str]:
    """Destroy the data keys of those cases whose stream records `CaseRecordsDestroyed`
    (`caseledger_destroy_data_keys`, migration 0009: the app role's only way), in one query;
    a case with no key yet gets a destroyed row, so it never takes one. The cases destroyed
    now (not those destroyed before)."""
    rows = await conn.fetch("SELECT caseledger_destroy_data_keys($1::text[], $2) AS case_id", case_ids, at)
    return [r["case_id"] for r in rows]
