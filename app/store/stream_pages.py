"""Bounded reads of one case's stream: a page, and the later retractions of a page.

A case may hold tens of thousands of events; every read a request makes of it goes
through here with its limit in the SQL, so a request for one event reads one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg
import orjson

from app.store.queries import load_sql
from app.store.streams import StoredEvent


async def read_page(
    conn: asyncpg.Connection,
    case_id: str,
    *,
    from_version: int = 1,
    limit: int,
    known_at: datetime | None = None,
) -> list[StoredEvent]:
    """At most `limit` events of the case from `from_version` on, in version order."""
    rows = await conn.fetch(load_sql("stream_page"), case_id, from_version, known_at, limit)
    return [StoredEvent.from_row(r) for r in rows]


async def read_as_json(
    conn: asyncpg.Connection,
    case_id: str,
    *,
    limit: int = 2**31 - 1,
    known_at: datetime | None = None,
    batch: int = 2000,
) -> list[str]:
    """The first `limit` events of the case as JSON texts of at most `batch` events each
    (`events_of_json` reads them). For a long read that a worker thread folds: the event
    loop handles a few strings instead of building 20,000 rows' objects."""
    texts: list[str] = []
    read, next_version = 0, 1
    while read < limit:
        wanted = min(batch, limit - read)
        row = await conn.fetchrow(load_sql("stream_page_json"), case_id, next_version, known_at, wanted)
        if row["events"]:
            texts.append(row["page"])
            read, next_version = read + row["events"], row["last_version"] + 1
        if row["events"] < wanted:
            break
    return texts


def events_of_json(texts: Sequence[str]) -> list[StoredEvent]:
    """The events of `read_as_json`'s texts, in version order (CPU-bound: off the loop)."""
    return [StoredEvent.from_json(row) for text in texts for row in orjson.loads(text)]


async def retractions_of(
    conn: asyncpg.Connection,
    case_id: str,
    *,
    first_version: int,
    last_version: int,
    known_at: datetime | None = None,
) -> list[StoredEvent]:
    """The `EventRetracted` events after `last_version` that retract an event with a
    version from `first_version` to `last_version` (a page's later retractions)."""
    rows = await conn.fetch(load_sql("retractions_of"), case_id, first_version, last_version, known_at)
    return [StoredEvent.from_row(r) for r in rows]
