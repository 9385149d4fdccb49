"""The statements of bulk work: `caseledger import`, `rebuild` and `verify`.

The ops package decides what to do with the whole log; the SQL it needs lives
here, under `sql/bulk/`. Some statements name a table or a WHERE clause that a
parameter cannot stand for; those are filled in from fixed names and fragments,
never from input.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any
from uuid import UUID

import asyncpg

from app.store.queries import load_sql

Bounds = tuple[str | None, str | None]  # [low, high) of case_id; None is open


async def known_events(conn: asyncpg.Connection, event_ids: Sequence[UUID]) -> list[asyncpg.Record]:
    """The stored (event_id, case_id, type, data) of those of `event_ids` that are stored."""
    return await conn.fetch(load_sql("known_event_ids"), list(event_ids))


async def import_heads(conn: asyncpg.Connection, cached: dict[str, int]) -> list[asyncpg.Record]:
    """The heads of the cases in `cached` (case_id -> the version a cache holds), with the
    stored state only where the cache does not already hold that version."""
    return await conn.fetch(load_sql("import_heads"), list(cached), list(cached.values()))


async def import_tails(conn: asyncpg.Connection, after: dict[str, int]) -> list[asyncpg.Record]:
    """The events of each case in `after` (case_id -> version) that follow that version."""
    return await conn.fetch(load_sql("import_tails"), list(after), list(after.values()))


async def iter_case_rows(
    conn: asyncpg.Connection, *, where: str = "", args: Sequence[Any] = (), prefetch: int = 5000
) -> AsyncIterator[list[asyncpg.Record]]:
    """Each case's events, whole, in case order (columns of `rebuild_events.sql`, by position:
    case_id, version, event_id, type, schema_version, data as JSON text, recorded_at, hash).

    `where` narrows it to a range of case_id (`range_condition`). Needs a transaction (a
    server-side cursor read `prefetch` rows at a time); memory stays bounded by that.
    """
    cursor = await conn.cursor(load_sql("rebuild_events").format(where=where), *args)
    current: list[asyncpg.Record] = []
    while rows := await cursor.fetch(prefetch):
        for row in rows:
            if current and current[0][0] != row[0]:
                yield current
                current = []
            current.append(row)
    if current:
        yield current


async def compress_with_lz4(conn: asyncpg.Connection) -> None:
    """In the caller's transaction: what it stores is TOASTed with lz4, where the server has it."""
    await conn.execute(load_sql("bulk/lz4_snapshots"))


async def count_streams(conn: asyncpg.Connection) -> int:
    """The streams in the log (not in case_state: read models may be what is wrong)."""
    return int(await conn.fetchval(load_sql("bulk/count_streams")))


async def shard_bounds(conn: asyncpg.Connection, parts: int) -> list[Bounds]:
    """`parts` ranges (fewer when there are fewer cases) that together cover every case_id."""
    if parts <= 1:
        return [(None, None)]
    heads = await conn.fetchval(load_sql("bulk/any_heads"))
    weights = load_sql("bulk/by_heads" if heads else "bulk/by_events")
    cuts_sql = load_sql("bulk/shard_cuts").format(weights=weights)
    cuts = [r["first"] for r in await conn.fetch(cuts_sql, parts)][1:parts]
    edges: list[str | None] = [None, *cuts, None]
    return list(itertools.pairwise(edges))


def range_condition(bounds: Bounds, first_param: int = 1) -> tuple[str, list[str]]:
    """A WHERE clause on case_id for `bounds`, and its arguments (assembled: either end may be open)."""
    low, high = bounds
    clauses, args = [], []
    if low is not None:
        args.append(low)
        clauses.append(f"case_id >= ${first_param + len(args) - 1}")
    if high is not None:
        args.append(high)
        clauses.append(f"case_id < ${first_param + len(args) - 1}")
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


async def delete_orphans(conn: asyncpg.Connection, tables: Iterable[str]) -> set[str]:
    """Remove the read-model rows of cases without events; the case_ids removed.

    The table name is filled in (a parameter cannot name a table) from the
    caller's fixed list of read models.
    """
    removed: set[str] = set()
    for table in tables:
        sql = load_sql("bulk/orphans").format(table=table)
        removed.update(r["case_id"] for r in await conn.fetch(sql))
    return removed


async def analyze(conn: asyncpg.Connection, tables: Sequence[str]) -> None:
    """ANALYZE those tables (outside any transaction block); the names are the caller's fixed list."""
    await conn.execute(f"ANALYZE {', '.join(tables)}")
