"""The checkpoint tree's rows: leaves, the frontier to resume from, signed checkpoints.

Only SQL here (the statements are in `sql/checkpoints/`); what the rows mean is in
`app.domain.merkle*` and `app.domain.checkpoint`. Leaves are written with COPY: a first
checkpoint over a large log writes millions of them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

import asyncpg

from app.store.queries import load_sql

TREE_LOCK = 0x6361_7365_7472_6565  # pg_advisory_xact_lock key: one tree writer at a time
LOWEST_POSITION, HIGHEST_POSITION = -(2**63), 2**63 - 1  # events.position is a bigint
LEAF_COLUMNS = ("leaf_index", "kind", "subject", "version", "digest", "leaf_hash", "position")


@dataclass(frozen=True, slots=True)
class StoredFrontier:
    tree_size: int
    last_position: int
    hashes: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    tree_size: int
    root_hash: bytes
    last_position: int
    signed_at: datetime
    note: str


async def lock_tree(conn: asyncpg.Connection) -> None:
    """Serialise tree writers (the CLI and the service's signer) until the transaction ends."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", TREE_LOCK)


async def horizon(conn: asyncpg.Connection) -> int:
    """The feed's stable-prefix bound: no event below it can still commit."""
    return int(await conn.fetchval(load_sql("checkpoints/horizon")))


async def latest_frontier(conn: asyncpg.Connection) -> StoredFrontier:
    row = await conn.fetchrow(load_sql("checkpoints/latest_frontier"))
    if row is None:
        return StoredFrontier(0, 0, ())
    return StoredFrontier(row["tree_size"], row["last_position"], tuple(row["hashes"]))


async def save_frontier(conn: asyncpg.Connection, frontier: StoredFrontier) -> None:
    await conn.execute(
        "INSERT INTO merkle_frontier (tree_size, last_position, hashes) VALUES ($1, $2, $3)",
        frontier.tree_size,
        frontier.last_position,
        list(frontier.hashes),
    )


async def known_policy_leaves(conn: asyncpg.Connection, policy_id: str) -> set[tuple[int, bytes]]:
    rows = await conn.fetch(load_sql("checkpoints/known_policy_leaves"), policy_id)
    return {(row["version"], bytes(row["digest"])) for row in rows}


async def new_event_batches(
    conn: asyncpg.Connection, after: int, below: int, *, batch_size: int = 10_000
) -> AsyncIterator[list[asyncpg.Record]]:
    """(position, case_id, version, hash) of events in (after, below), feed order (needs a transaction)."""
    cursor = await conn.cursor(load_sql("checkpoints/new_events"), after, below)
    while rows := await cursor.fetch(batch_size):
        yield rows


async def write_leaves(conn: asyncpg.Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Rows in LEAF_COLUMNS order."""
    if rows:
        await conn.copy_records_to_table("merkle_leaves", records=rows, columns=LEAF_COLUMNS)


async def leaf_hash_batches(
    conn: asyncpg.Connection, size: int, *, batch_size: int = 50_000
) -> AsyncIterator[list[bytes]]:
    """The first `size` leaf hashes in tree order (needs a transaction)."""
    cursor = await conn.cursor(load_sql("checkpoints/leaf_hashes"), size)
    while rows := await cursor.fetch(batch_size):
        yield [bytes(row[0]) for row in rows]


async def stored_leaf_batches(
    conn: asyncpg.Connection, *, batch_size: int = 10_000
) -> AsyncIterator[list[asyncpg.Record]]:
    """Every recorded leaf (leaf_index, kind, subject, version, digest, position) in tree order."""
    cursor = await conn.cursor(load_sql("checkpoints/stored_leaves"))
    while rows := await cursor.fetch(batch_size):
        yield rows


async def policy_leaves(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return list(await conn.fetch(load_sql("checkpoints/policy_leaves")))


async def event_batches(
    conn: asyncpg.Connection, *, batch_size: int = 5_000, between: tuple[int, int] | None = None
) -> AsyncIterator[list[asyncpg.Record]]:
    """Every event in feed order (those with a position in [low, high) when `between` is
    given), all its columns (needs a transaction): (position, case_id, version, hash,
    event_id, type, schema_version, data, metadata, recorded_at), the event id, data,
    metadata and time as their text (`app.domain.hashing.StoredRowHasher`)."""
    low, high = (LOWEST_POSITION, HIGHEST_POSITION) if between is None else (between[0], between[1] - 1)
    cursor = await conn.cursor(load_sql("checkpoints/events_in_feed_order"), low, high)  # inclusive
    while rows := await cursor.fetch(batch_size):
        yield rows


async def leaf_positions(conn: asyncpg.Connection, leaf_indexes: Sequence[int]) -> list[int]:
    """The recorded positions of those of `leaf_indexes` that exist."""
    rows = await conn.fetch(
        "SELECT position FROM merkle_leaves WHERE leaf_index = ANY($1::bigint[])", list(leaf_indexes)
    )
    return [row[0] for row in rows]


class RangeCount(NamedTuple):
    """Events in a range of positions: how many, the lowest and highest, their positions' sum."""

    rows: int
    lowest: int | None
    highest: int | None
    total: int


async def range_counts(conn: asyncpg.Connection, bounds: Sequence[tuple[int, int]]) -> list[RangeCount]:
    """Per [low, high) range, in order, what the events in it add up to (needs a transaction:
    the verifier's snapshot)."""
    rows = await conn.fetch(
        load_sql("checkpoints/range_counts"), [b[0] for b in bounds], [b[1] for b in bounds]
    )
    return [RangeCount(row[0], row[1], row[2], int(row[3])) for row in rows]


async def highest_position(conn: asyncpg.Connection) -> int | None:
    """The last event's position in this snapshot (None without events): verify refuses one
    that no worker's half-open range could reach."""
    return await conn.fetchval("SELECT max(position) FROM events")


async def export_snapshot(conn: asyncpg.Connection) -> str:
    """This transaction's snapshot, for other sessions to read the same rows (while it lasts)."""
    return str(await conn.fetchval("SELECT pg_export_snapshot()"))


async def stored_hashes(
    conn: asyncpg.Connection, keys: Sequence[tuple[str, int]]
) -> dict[tuple[str, int], str]:
    """(case_id, version) -> stored hash, for those of `keys` that exist."""
    rows = await conn.fetch(load_sql("checkpoints/stored_hashes"), [k[0] for k in keys], [k[1] for k in keys])
    return {(row["case_id"], row["version"]): row["hash"] for row in rows}


async def record_checkpoint(conn: asyncpg.Connection, checkpoint: StoredCheckpoint) -> None:
    await conn.execute(
        load_sql("checkpoints/record_checkpoint"),
        checkpoint.tree_size,
        checkpoint.root_hash,
        checkpoint.last_position,
        checkpoint.signed_at,
        checkpoint.note,
    )


async def latest_checkpoint(conn: asyncpg.Connection) -> StoredCheckpoint | None:
    row = await conn.fetchrow(load_sql("checkpoints/latest_checkpoint"))
    return None if row is None else StoredCheckpoint(*row.values())


async def checkpoint_of_size(conn: asyncpg.Connection, size: int) -> StoredCheckpoint | None:
    row = await conn.fetchrow(
        "SELECT tree_size, root_hash, last_position, signed_at, note FROM checkpoints WHERE tree_size = $1",
        size,
    )
    return None if row is None else StoredCheckpoint(*row.values())


async def event_leaf_index(conn: asyncpg.Connection, event_id: UUID) -> asyncpg.Record | None:
    """(leaf_index, case_id, version) of the event, None when it is not in the tree yet."""
    return await conn.fetchrow(load_sql("checkpoints/event_leaf"), event_id)


async def case_leaf_indexes(conn: asyncpg.Connection, case_id: str, size: int) -> dict[int, int]:
    """version -> leaf index of the case's events among the first `size` leaves."""
    rows = await conn.fetch(load_sql("checkpoints/case_leaves"), case_id, size)
    return {row["version"]: row["leaf_index"] for row in rows}


async def case_event_counts(conn: asyncpg.Connection, case_ids: Sequence[str]) -> dict[str, int]:
    """case_id -> its highest stored version (absent: no events left)."""
    rows = await conn.fetch(
        "SELECT case_id, max(version) FROM events WHERE case_id = ANY($1::text[]) GROUP BY case_id",
        list(case_ids),
    )
    return {row[0]: row[1] for row in rows}


async def read_models_without_events(conn: asyncpg.Connection) -> list[tuple[str, str]]:
    """(model, case_id) of read-model rows whose case has no events."""
    rows = await conn.fetch(load_sql("checkpoints/read_models_without_events"))
    return [(row["model"], row["case_id"]) for row in rows]
