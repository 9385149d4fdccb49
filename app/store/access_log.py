"""The access record's SQL: append a batch to the chain, read pages of it.

Why one transaction per batch behind an advisory lock: several service processes
write the one chain; each batch reads the chain's head and continues it (and
`caseledger_record_access_batch` refuses a batch that does not). Why a row per batch
(`access_log_batches`, migration 0012): a row and its index entries per record cost
each read about 11 us of PostgreSQL; `access_log` is the view with a row per record.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime

import asyncpg

from app.domain.access_records import GENESIS, AccessRecord, RecordBatch
from app.store.queries import load_sql

# Any fixed number unique to this chain among the service's advisory locks.
_CHAIN_LOCK = 0x0ACCE55


async def append_records(conn: asyncpg.Connection, records: Sequence[AccessRecord]) -> int:
    """Chain and store `records` as one batch; the number stored."""
    batch = RecordBatch()
    for record in records:
        batch.add(record)
    return await append_batch(conn, batch)


async def append_batch(conn: asyncpg.Connection, records: RecordBatch) -> int:
    """Chain and store a gathered batch in one transaction; the number stored."""
    if not records:
        return 0
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _CHAIN_LOCK)
        head = await conn.fetchval(load_sql("access_log/last_hash"))
        b = records.chained(head or GENESIS)
        await conn.execute(
            load_sql("access_log/append_batch"),
            *(b.previous_hash, b.hash, b.count, b.first_at, b.last_at, b.case_ids, b.actors),
            b.records.decode(),
        )
        return b.count


async def page(
    conn: asyncpg.Connection,
    *,
    after: int,
    case_id: str | None,
    actor: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
) -> list[asyncpg.Record]:
    return await conn.fetch(load_sql("access_log/page"), after, case_id, actor, since, until, limit)


async def session_keys(conn: asyncpg.Connection, session_hashes: Sequence[str]) -> dict[str, asyncpg.Record]:
    """session hash -> (key_id, role, provider_id) for the sessions still stored."""
    rows = await conn.fetch(load_sql("access_log/session_keys"), list(session_hashes))
    return {row["session_hash"]: row for row in rows}


async def batches(conn: asyncpg.Connection, *, prefetch: int = 64) -> AsyncIterator[asyncpg.Record]:
    """Every batch in chain order, `prefetch` rows at a time (inside a transaction)."""
    async for row in conn.cursor(load_sql("access_log/batches"), prefetch=prefetch):
        yield row


async def key_holders(conn: asyncpg.Connection, key_hashes: Sequence[str]) -> dict[str, asyncpg.Record]:
    """key hash -> (key_id, role, provider_id) for the API keys known."""
    rows = await conn.fetch(load_sql("access_log/key_holders"), list(key_hashes))
    return {row["key_hash"]: row for row in rows}
