"""A retry with the same event_ids and content gets the original answer, whatever the timing.

Contract section 1: a retry is a no-op that returns the original result. A retry
can race its original: it may read the case before the original commits and
then decide against a state that already holds the original's events, and be
refused (`authorization_already_issued`), or lose the append race. So whenever a
batch with client event_ids is refused or loses a race, its ids are looked up
again once the competing transaction is visible, and a stored original answers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from app.service.errors import ServiceError
from app.service.validate import Validated
from app.store import streams as store


@dataclass(frozen=True, slots=True)
class Appended:
    case_id: str
    version: int
    events: list[dict[str, Any]]
    replayed: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "version": self.version,
            "events": self.events,
            "idempotent_replay": self.replayed,
        }


def client_ids(batch: Sequence[Validated]) -> list[UUID]:
    return [v.event_id for v in batch if v.client_supplied_id]


Opener = Callable[[asyncpg.Connection, Sequence[store.StoredEvent]], Awaitable[Sequence[store.StoredEvent]]]


async def as_stored(
    conn: asyncpg.Connection, events: Sequence[store.StoredEvent]
) -> Sequence[store.StoredEvent]:
    """Events compared as stored (no sealing: the stored data is the plaintext)."""
    return events


async def original_answer(
    conn: asyncpg.Connection, case_id: str, batch: Sequence[Validated], opened: Opener = as_stored
) -> Appended | None:
    """The original append's answer when the batch's client event_ids are stored now.
    `opened` gives the stored events' plaintext: a retry is compared on content, not on
    the sealed form (whose nonces differ every time)."""
    ids = client_ids(batch)
    if not ids:
        return None
    existing = await store.stored_events(conn, ids)
    return replay_of_earlier_append(case_id, batch, await opened(conn, existing)) if existing else None


def replay_of_earlier_append(
    case_id: str, batch: Sequence[Validated], existing: Sequence[store.StoredEvent]
) -> Appended:
    """Same event_ids and same content: the original answer. Anything else: 409."""
    by_id = {e.event_id: e for e in existing}
    same = len(existing) == len(batch) and all(
        (stored := by_id.get(v.event_id)) is not None
        and stored.case_id == case_id
        and stored.type == v.event.TYPE
        and stored.data == v.data
        for v in batch
    )
    if not same:
        ids = ", ".join(str(e.event_id) for e in existing)
        raise ServiceError(
            "idempotency_conflict",
            f"event_id {ids} was already recorded with other content or in another append",
        )
    ordered = sorted(existing, key=lambda e: e.version)
    return Appended(
        case_id,
        ordered[-1].version,
        [
            {"event_id": str(e.event_id), "version": e.version, "position": e.position, "type": e.type}
            for e in ordered
        ],
        replayed=True,
    )
