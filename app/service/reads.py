"""Folding a case for a decision or a read: cache, snapshot plus tail, or full replay."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import asyncpg

from app.domain.case import FOLD_VERSION, SNAPSHOT, CaseState, evolve_case, replay
from app.domain.clock import ClockState, ClockView, clock_as_of, clock_on, evaluate_clock, fold_log_as_of
from app.domain.clock_log import CLOCK_LOG
from app.domain.facts import Fact
from app.domain.policy import PolicyTable
from app.domain.sealing import blind_sealed_data
from app.events import EventRetracted
from app.events.registry import parse_event
from app.projections.ledger import ledger_rows
from app.service.errors import ServiceError
from app.service.state_cache import StateCache
from app.store import streams as store
from app.store.read_models import StoredClock, case_head, read_clock


def to_fact(event: store.StoredEvent) -> Fact:
    """A stored event as a fold takes it; a sealed personal value folds as "[sealed]" (no
    rule reads one, and no key is needed to fold: docs/privacy.md)."""
    return Fact(
        event.event_id,
        event.version,
        event.recorded_at,
        parse_event(event.type, blind_sealed_data(event.type, event.data), event.schema_version),
    )


def _onto(state: CaseState, tail: Sequence[Fact]) -> CaseState | None:
    """Fold `tail` onto a snapshot; None when a retraction needs the whole stream."""
    for fact in tail:
        if isinstance(fact.data, EventRetracted):
            return None
        state = evolve_case(state, fact)
    return state


async def fold_case(
    conn: asyncpg.Connection,
    case_id: str,
    *,
    version: int,
    state_version: int,
    fold_version: int | None,
    snapshot: Any,
    cache: StateCache | None,
) -> CaseState:
    """The state at `version`: from the cache, else the snapshot and the events after it."""
    cached = cache.get(case_id) if cache is not None else None
    if cached is not None and cached.version == version:
        return cached.state
    state: CaseState | None = None
    if snapshot is not None and fold_version == FOLD_VERSION:
        # A snapshot at the version itself needs no tail (no statement for an empty one).
        tail: list[store.StoredEvent] = []
        if state_version < version:
            tail = await store.read_stream(conn, case_id, from_version=state_version + 1, to_version=version)
        state = _onto(SNAPSHOT.validate_python(snapshot), [to_fact(e) for e in tail])
    if state is None:
        state = replay([to_fact(e) for e in await store.read_stream(conn, case_id, to_version=version)])
    return state


async def case_state(
    conn: asyncpg.Connection,
    case_id: str,
    *,
    known_at: datetime | None = None,
    cache: StateCache | None = None,
) -> tuple[CaseState, int]:
    """(state, version) for a read; 404 `case_not_found` when the case has no events (by `known_at`)."""
    if known_at is None:
        cached_version = cache.version_of(case_id) if cache is not None else -1
        row = await case_head(conn, case_id, cached_version=cached_version)
        if row is not None:
            state = await fold_case(
                conn,
                case_id,
                version=row["version"],
                state_version=row["state_version"],
                fold_version=row["fold_version"],
                snapshot=row["state"],
                cache=cache,
            )
            return state, row["version"]
    events = await store.read_stream(conn, case_id, known_at=known_at)
    if not events:
        when = f" as known at {known_at.isoformat()}" if known_at else ""
        raise ServiceError("case_not_found", f"no case {case_id}{when}")
    return replay([to_fact(e) for e in events]), events[-1].version


async def closure_clock(
    conn: asyncpg.Connection,
    case_id: str,
    *,
    as_of: date,
    known_at: datetime | None,
    policy: PolicyTable,
    cache: StateCache | None = None,
) -> tuple[ClockView, int]:
    """(the clock on `as_of` as the case stood that day, as known at `known_at`; version).

    The policy is the one known at `known_at` too (`PolicyTable.as_known_at`): a replay
    answers as the service did then, whatever was adopted since (docs/policy.md).

    The stored closure-clock row holds the clock of every event recorded so far: it
    answers when nothing is known at `known_at` that the row lacks (no `known_at`) and
    nothing folded is dated after `as_of` (`ClockFacts.answers_for`: `as_of` on or after
    the case's latest business date). Otherwise the clock is judged on the facts dated
    up to `as_of` (an event dated later had not happened yet): without `known_at` the
    clock's log is re-folded (`_clock_then`). The common read (no `as_of`, or a later one)
    stays one statement that touches no event and sends no snapshot.
    """
    if known_at is None:
        stored = await read_clock(conn, case_id, as_of)
        if stored is not None:
            if stored.facts is not None and stored.facts.answers_for(as_of):
                return clock_on(stored.facts, as_of), stored.version
            then = await _clock_then(conn, case_id, stored, as_of, cache)
            return evaluate_clock(then, as_of, policy), stored.version
    state, version = await case_state(conn, case_id, known_at=known_at, cache=cache)
    return evaluate_clock(state.clock, as_of, policy.as_known_at(known_at)), version


async def _clock_then(
    conn: asyncpg.Connection, case_id: str, stored: StoredClock, as_of: date, cache: StateCache | None
) -> ClockState:
    """The clock as the case stood on `as_of`, an earlier date than the row answers: the
    re-fold of the clock's log (the clock keeps it for this). The log comes from the
    cached state at the row's version, else from the snapshot at that version, which the
    row's own read brought (every imported case; a case snapshotted at its last append),
    else from `fold_case` (an older snapshot and the events after it, or the stream)."""
    in_cache = cache is not None and cache.version_of(case_id) == stored.version  # fold_case takes it
    if not in_cache and stored.clock_log is not None and stored.fold_version == FOLD_VERSION:
        return fold_log_as_of(CLOCK_LOG.validate_python(stored.clock_log), as_of)
    state = await fold_case(
        conn,
        case_id,
        version=stored.version,
        state_version=stored.state_version,
        fold_version=stored.fold_version,
        snapshot=stored.snapshot,
        cache=cache,
    )
    return clock_as_of(state.clock, as_of)


async def case_ledger(
    conn: asyncpg.Connection,
    case_id: str,
    *,
    known_at: datetime | None,
    policy: PolicyTable,
    cache: StateCache | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """(the case's PBAs as the ledger answered at `known_at`, priced by the policy as known
    then; version). Without `known_at` the stored rows (`ledger_pba`) are the answer."""
    state, version = await case_state(conn, case_id, known_at=known_at, cache=cache)
    return ledger_rows(state, policy.as_known_at(known_at)), version
