"""One page of a case's audit history, read with its limits in the SQL and folded off the loop.

A history row says what its event changed, so the page's rows need the case folded up
to the page: the events before it are read (bounded by the page's end, as a few JSON
texts, so the event loop builds no object per event) and parsed and folded in the
heavy-work thread (`offload.off_loop`), as does everything whose cost grows with the case. A later event
that retracts one on the page is found by a query bounded by the page's event ids.
MAX_PAGE bounds what one request may ask for. Personal values are opened with the
case's key (docs/privacy.md) in that thread too, before the fold: the rows print them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg

from app.domain.case import CaseState, replay
from app.domain.facts import Fact
from app.domain.policy import PolicyTable
from app.service.case_keys import CaseKeys, open_stored
from app.service.history import case_history
from app.service.reads import to_fact
from app.store import stream_pages
from app.store.streams import StoredEvent
from app.web.offload import off_loop

MAX_PAGE = 500
"""Most events one history or UI page holds (documented in openapi.yaml and docs/security.md)."""


@dataclass(frozen=True, slots=True)
class PageRequest:
    case_id: str
    from_version: int
    limit: int
    known_at: datetime | None = None
    as_of: date | None = None

    @property
    def end(self) -> int:
        """The page's last version."""
        return self.from_version - 1 + self.limit


@dataclass(frozen=True, slots=True)
class HistoryPage:
    events: list[StoredEvent]  # the page's events
    facts: list[Fact]  # the same, parsed
    rows: list[dict[str, Any]]  # one history row per event of the page
    next_from_version: int | None  # the next page's first version; None on the last page


async def read_history_page(
    conn: asyncpg.Connection, q: PageRequest, policy: PolicyTable, keys: CaseKeys
) -> HistoryPage | None:
    """The page `q` asks for; None when the case has no events (as known at `q.known_at`)."""
    texts = await stream_pages.read_as_json(conn, q.case_id, limit=q.end + 1, known_at=q.known_at)
    if not texts:
        return None
    later = await stream_pages.retractions_of(
        conn, q.case_id, first_version=q.from_version, last_version=q.end, known_at=q.known_at
    )
    key = await keys.for_read(conn, q.case_id)
    # One job: the parsed stream never comes back to the loop, only the page does.
    return await off_loop(_history_from, texts, [open_stored(e, key) for e in later], q, policy, key)


def _facts(events: Sequence[StoredEvent]) -> list[Fact]:
    return [to_fact(e) for e in events]


def opened_events(texts: list[str], key: bytes | None) -> list[StoredEvent]:
    """`read_as_json`'s events with their personal values opened (`CaseKeys.for_read`'s key)."""
    return [open_stored(e, key) for e in stream_pages.events_of_json(texts)]


def _history_from(
    texts: list[str], later: list[StoredEvent], q: PageRequest, policy: PolicyTable, key: bytes | None
) -> HistoryPage:
    through = opened_events(texts, key)
    return _history_page(through, _facts(through[: q.end]), later, q, policy)


def fold_case_page(
    texts: list[str], q: PageRequest, policy: PolicyTable, key: bytes | None
) -> tuple[CaseState, int, HistoryPage]:
    """(the whole case as known, its version, the page) from `stream_pages.read_as_json`'s
    texts of the whole stream, opened with the case's `key`: for the auditor's page, in
    the heavy-work thread."""
    events = opened_events(texts, key)
    facts = _facts(events)
    later = [e for e in events[q.end :] if e.type == "EventRetracted"]
    page = _history_page(events, facts, later, q, policy)
    return replay(facts), events[-1].version, page


def _history_page(
    through: list[StoredEvent],
    facts: list[Fact],
    later: list[StoredEvent],
    q: PageRequest,
    policy: PolicyTable,
) -> HistoryPage:
    """The page's rows from the events through its end (runs in a worker thread)."""
    first, end = q.from_version - 1, q.end
    rows = case_history(through[:end], facts[:end], policy, as_of=q.as_of)[first:]
    _mark_retracted(rows, later)
    more = len(through) > end
    return HistoryPage(through[first:end], facts[first:end], rows, end + 1 if more else None)


def _mark_retracted(rows: list[dict[str, Any]], later: list[StoredEvent]) -> None:
    """Mark the rows that an event after the page retracts, as `case_history` marks them."""
    by_retracted = {str(UUID(e.data["retracted_event_id"])): e for e in later}
    for row in rows:
        retraction = by_retracted.get(row["event_id"])
        if retraction is not None:
            row["retracted"] = {
                "by_event_id": str(retraction.event_id),
                "actor": retraction.metadata.get("actor"),
                "recorded_at": retraction.to_json()["recorded_at"],
                "reason": retraction.data["reason"],
            }
