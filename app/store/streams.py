"""The event store: a handful of async functions over one asyncpg pool.

PostgreSQL enforces what matters even if this module had a bug: unique
(`case_id`, `version`) and `event_id`, and a trigger that refuses UPDATE,
DELETE and TRUNCATE of events.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from app.domain.hashing import GENESIS, event_hash, timestamp_text

EVENT_COLUMNS = (
    "position, case_id, version, event_id, type, schema_version, data, metadata, recorded_at, hash"
)
# Positions are (xid << 20) + n; everything below the oldest running
# transaction's xid is final, so a reader never passes a commit still to come.
VISIBLE_HORIZON = "(pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 20)"


@dataclass(frozen=True, slots=True)
class StoredEvent:
    position: int
    case_id: str
    version: int
    event_id: UUID
    type: str
    schema_version: int
    data: dict[str, Any]
    metadata: dict[str, Any]
    recorded_at: datetime
    hash: str

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> StoredEvent:
        return cls(*row.values())

    @classmethod
    def from_json(cls, row: dict[str, Any]) -> StoredEvent:
        """From jsonb_build_object of a row (timestamps come back as ISO text)."""
        return cls(
            row["position"],
            row["case_id"],
            row["version"],
            UUID(row["event_id"]),
            row["type"],
            row["schema_version"],
            row["data"],
            row["metadata"],
            datetime.fromisoformat(row["recorded_at"]),
            row["hash"],
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "event_id": str(self.event_id),
            "case_id": self.case_id,
            "version": self.version,
            "position": self.position,
            "type": self.type,
            "schema_version": self.schema_version,
            "data": self.data,
            "metadata": self.metadata,
            "recorded_at": timestamp_text(self.recorded_at),
            "hash": self.hash,
        }

    def expected_hash(self, previous_hash: str) -> str:
        return event_hash(
            previous_hash,
            case_id=self.case_id,
            version=self.version,
            event_id=self.event_id,
            type=self.type,
            schema_version=self.schema_version,
            data=self.data,
            metadata=self.metadata,
            recorded_at=self.recorded_at,
        )


@dataclass(frozen=True, slots=True)
class CaseHead:
    """What an append needs to know of a case before deciding: one round trip."""

    version: int
    last_hash: str
    last_recorded_at: datetime | None
    state_version: int
    fold_version: int | None
    state: Any  # the snapshot, None when the caller's cached version is current
    existing: tuple[StoredEvent, ...]


@dataclass(frozen=True, slots=True)
class NewEvent:
    event_id: UUID
    type: str
    schema_version: int
    data: dict[str, Any]
    metadata: dict[str, Any]
    hash: str


# The one statement of an append: events, head, snapshot, read models. APPEND_SQL
# continues a transaction-local event counter, so several appends may share one
# transaction (bulk import); APPEND_ALONE_SQL is for an append that is the only one
# of its transaction and skips the counter (a second one there would fail loudly on
# the position's primary key, never write a wrong position).
APPEND_SQL = "SELECT caseledger_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
APPEND_ALONE_SQL = "SELECT caseledger_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 0)"

# A refused milestone claim is kept once per claim key, outside the stream, so the
# ledgers can list it with its reason; the service and the importer both write it.
REFUSED_CLAIM_SQL = (
    "INSERT INTO refused_claims"
    " (case_id, claim_key, pba_id, provider_id, type, data, rule, detail, actor)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING"
)

_LOAD_HEAD = f"""
SELECT s.version, s.last_hash, s.last_recorded_at, s.state_version, s.fold_version,
       CASE WHEN s.version = $3 THEN NULL ELSE s.state END AS state,
       (SELECT jsonb_agg(jsonb_build_object({", ".join(f"'{c}', {c}" for c in EVENT_COLUMNS.split(", "))})
               ORDER BY position)
        FROM events WHERE event_id = ANY($2::uuid[])) AS existing
FROM (SELECT 1) AS one LEFT JOIN case_state AS s ON s.case_id = $1
"""


async def load_head(
    conn: asyncpg.Connection, case_id: str, event_ids: Sequence[UUID], *, cached_version: int = -1
) -> CaseHead:
    """The case's head, any of `event_ids` already stored, and the snapshot unless cached."""
    row = await conn.fetchrow(_LOAD_HEAD, case_id, list(event_ids), cached_version)
    assert row is not None
    existing = tuple(StoredEvent.from_json(e) for e in row["existing"] or ())
    if row["version"] is None:
        return CaseHead(0, GENESIS, None, 0, None, None, existing)
    return CaseHead(
        row["version"],
        row["last_hash"],
        row["last_recorded_at"],
        row["state_version"],
        row["fold_version"],
        row["state"],
        existing,
    )


async def append(
    conn: asyncpg.Connection,
    *,
    case_id: str,
    expected_version: int,
    events: Sequence[NewEvent],
    recorded_at: datetime,
    fold_version: int,
    state: Any,
    clock_row: dict[str, Any] | None,
    ledger_rows: list[dict[str, Any]] | None,
) -> list[int]:
    """Append atomically with the snapshot and read models; returns each event's position.

    The only append of its transaction (the service's appends are); the importer,
    which appends many cases per transaction, uses APPEND_SQL.

    Raises asyncpg.UniqueViolationError when another writer got there first
    (constraint events_case_version_key) or an event_id exists (events_event_id_key).
    """
    base = await conn.fetchval(
        APPEND_ALONE_SQL,
        case_id,
        expected_version,
        [e.event_id for e in events],
        [e.type for e in events],
        [e.schema_version for e in events],
        [e.data for e in events],
        [e.metadata for e in events],
        [e.hash for e in events],
        recorded_at,
        fold_version,
        state,
        clock_row,
        ledger_rows,
    )
    return [base + i for i in range(1, len(events) + 1)]


async def read_stream(
    conn: asyncpg.Connection,
    case_id: str,
    *,
    from_version: int = 1,
    known_at: datetime | None = None,
) -> list[StoredEvent]:
    rows = await conn.fetch(
        f"SELECT {EVENT_COLUMNS} FROM events WHERE case_id = $1 AND version >= $2"
        " AND ($3::timestamptz IS NULL OR recorded_at <= $3) ORDER BY version",
        case_id,
        from_version,
        known_at,
    )
    return [StoredEvent.from_row(r) for r in rows]


async def read_all(conn: asyncpg.Connection, *, after: int = 0, limit: int = 100) -> list[StoredEvent]:
    """The global feed in position order, never past a transaction that may still commit."""
    rows = await conn.fetch(
        f"SELECT {EVENT_COLUMNS} FROM events WHERE position > $1"
        f" AND position < {VISIBLE_HORIZON} ORDER BY position LIMIT $2",
        after,
        limit,
    )
    return [StoredEvent.from_row(r) for r in rows]


async def iter_all_streams(
    conn: asyncpg.Connection,
    *,
    batch_size: int = 5000,
    where: str = "",
    args: Sequence[Any] = (),
) -> AsyncIterator[list[StoredEvent]]:
    """Every stream, whole, in case_id order, in batches: for rebuild and verify.

    `where` (" WHERE ..." on events, with `args`) narrows it, e.g. to a range of
    case_ids. Needs a transaction (server-side cursor); memory stays bounded by the batch.
    """
    cursor = conn.cursor(
        f"SELECT {EVENT_COLUMNS} FROM events{where} ORDER BY case_id, version", *args, prefetch=batch_size
    )
    current: list[StoredEvent] = []
    async for row in cursor:
        event = StoredEvent(*row.values())
        if current and current[-1].case_id != event.case_id:
            yield current
            current = []
        current.append(event)
    if current:
        yield current


async def current_version(conn: asyncpg.Connection, case_id: str) -> int:
    version = await conn.fetchval("SELECT version FROM case_state WHERE case_id = $1", case_id)
    return int(version or 0)


async def case_of_event(conn: asyncpg.Connection, event_id: UUID) -> str | None:
    return await conn.fetchval("SELECT case_id FROM events WHERE event_id = $1", event_id)


def verify_stream(events: Sequence[StoredEvent]) -> dict[str, Any]:
    """Recompute the chain; the first break names its version and what differs."""
    previous = GENESIS
    for expected_version, event in enumerate(events, start=1):
        if event.version != expected_version:
            return {
                "ok": False,
                "broken_at_version": expected_version,
                "reason": f"version {expected_version} is missing (found {event.version})",
            }
        recomputed = event.expected_hash(previous)
        if recomputed != event.hash:
            return {
                "ok": False,
                "broken_at_version": event.version,
                "event_id": str(event.event_id),
                "reason": "stored hash does not match the event's content and the previous hash",
                "stored_hash": event.hash,
                "recomputed_hash": recomputed,
            }
        previous = event.hash
    return {"ok": True, "events": len(events), "last_hash": previous}
