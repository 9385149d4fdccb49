"""What a retention run reads: pages of closed cases with the events the rule needs (SQL only).

The rule itself lives in `app.domain.retention`; destroying a key is `app.store.data_keys`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg

from app.store.queries import load_sql


@dataclass(frozen=True, slots=True)
class Candidate:
    """A closed case whose key lives, as a run reads it."""

    case_id: str
    version: int
    events: list[dict[str, Any]]  # {"event_id", "type", "data"}: closures, retractions, retention


async def candidates(
    conn: asyncpg.Connection, *, after: str, latest_closure: date, limit: int
) -> list[Candidate]:
    """The next page after the case id `after` (one query): see `retention/candidates.sql`."""
    rows = await conn.fetch(load_sql("retention/candidates"), after, latest_closure, limit)
    return [Candidate(r["case_id"], r["version"], r["events"] or []) for r in rows]
