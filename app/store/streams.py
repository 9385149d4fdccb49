"""The event store: a handful of async functions over one asyncpg pool.

PostgreSQL enforces what matters even if this module had a bug: unique
(`case_id`, `version`) and `event_id`, and a trigger that refuses UPDATE,
DELETE and TRUNCATE of events.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from app.domain.append_plan import Head
from app.domain.hashing import GENESIS, event_hash, timestamp_text
from app.store.queries import load_sql

# The columns of a StoredEvent, in its field order (sql/all_streams.sql lists the same).
EVENT_COLUMNS = (
    "position, case_id, version, event_id, type, schema_version, data, metadata, recorded_at, hash"
)


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

    def plan_head(self) -> Head:
        return Head(
            self.version, self.last_hash, self.last_recorded_at, self.state_version, self.fold_version
        )


async def load_head(
    conn: asyncpg.Connection, case_id: str, event_ids: Sequence[UUID], *, cached_version: int = -1
) -> CaseHead:
    """The case's head, any of `event_ids` already stored, and the snapshot unless cached."""
    row = await conn.fetchrow(load_sql("load_head"), case_id, list(event_ids), cached_version)
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


async def stored_events(conn: asyncpg.Connection, event_ids: Sequence[UUID]) -> list[StoredEvent]:
    """The events already stored under any of `event_ids` (a retry looks for its original)."""
    return [StoredEvent.from_row(r) for r in await conn.fetch(load_sql("stored_events"), list(event_ids))]


async def read_stream(
    conn: asyncpg.Connection,
    case_id: str,
    *,
    from_version: int = 1,
    to_version: int | None = None,
    known_at: datetime | None = None,
) -> list[StoredEvent]:
    rows = await conn.fetch(load_sql("read_stream"), case_id, from_version, known_at, to_version)
    return [StoredEvent.from_row(r) for r in rows]


async def read_all(conn: asyncpg.Connection, *, after: int = 0, limit: int = 100) -> list[StoredEvent]:
    """The global feed in position order, never past a transaction that may still commit."""
    rows = await conn.fetch(
        load_sql("read_all"),
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
    # Assembled: the WHERE clause is optional, and made of fixed fragments with parameters.
    sql = load_sql("all_streams").format(where=where)
    cursor = conn.cursor(sql, *args, prefetch=batch_size)
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
    """Recompute the chain and name every broken version, not only the first.

    Each event is checked against its stored predecessor's hash, so one edited row
    breaks at its own version only and a later edit still shows. The first break
    keeps its fields (`broken_at_version`, `reason`, ...); `broken_versions` lists all.
    """
    breaks = list(chain_breaks(events))
    if not breaks:
        last_hash = events[-1].hash if events else GENESIS
        return {"ok": True, "events": len(events), "last_hash": last_hash, "broken_versions": []}
    return {"ok": False, **breaks[0], "broken_versions": [b["broken_at_version"] for b in breaks]}


def chain_breaks(events: Sequence[StoredEvent]) -> Iterator[dict[str, Any]]:
    previous, expected_version = GENESIS, 1
    for event in events:
        if event.version != expected_version:
            yield {
                "broken_at_version": expected_version,
                "reason": f"version {expected_version} is missing (found {event.version})",
            }
        else:
            recomputed = event.expected_hash(previous)
            if recomputed != event.hash:
                yield {
                    "broken_at_version": event.version,
                    "event_id": str(event.event_id),
                    "reason": "stored hash does not match the event's content and the previous hash",
                    "stored_hash": event.hash,
                    "recomputed_hash": recomputed,
                }
        previous, expected_version = event.hash, event.version + 1
