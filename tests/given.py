"""Given/when/then helpers for the pure rules: record events as facts and fold them.

The events themselves come from `tests.builders`, the one module of event builders."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import TypeVar
from uuid import UUID, uuid4

from app.domain.facts import Fact
from app.events.types import EventData

S = TypeVar("S")
_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


def recorded(*events: EventData, first_version: int = 1, ids: Iterable[UUID] | None = None) -> list[Fact]:
    """Facts as the store would hand them to a fold: versions 1, 2, 3... and fresh ids."""
    id_list = list(ids) if ids is not None else [uuid4() for _ in events]
    return [
        Fact(
            event_id=id_list[i],
            version=first_version + i,
            recorded_at=_EPOCH + timedelta(minutes=first_version + i),
            data=e,
        )
        for i, e in enumerate(events)
    ]


def fold(evolve: Callable[[S, Fact], S], initial: S, facts: Iterable[Fact]) -> S:
    state = initial
    for f in facts:
        state = evolve(state, f)
    return state
