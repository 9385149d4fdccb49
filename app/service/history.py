"""Audit replay: what each event changed in the clock and the ledger.

Uses the same pure folds as the read models: after each event the case is
replayed as it was known then (retractions up to that point applied), and the
row shows the clock and ledger amounts before and after.

Each row is judged in business time on one day (`clock.as_of`): the caller's
`as_of`, else the event's own business date (a retraction, which has none: the
day it was recorded). Before and after are the case as it stood on that day, as
known before and after the event: events dated later had not happened yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from app.domain.business_time import business_date
from app.domain.case import (
    CaseState,
    clock_view,
    evolve_case,
    initial_case_state,
    replay,
    replay_as_of,
)
from app.domain.facts import Fact
from app.domain.ledger import ledger_view
from app.domain.policy import PolicyTable
from app.events import EventRetracted
from app.store.streams import StoredEvent


def _clock_summary(state: CaseState, as_of: date, policy: PolicyTable) -> dict[str, Any]:
    view = clock_view(state, as_of, policy)
    return {
        "status": view.status,
        "clock_start": view.clock_start,
        "clock_start_rule": view.clock_start_rule,
        "eligible_on": view.eligible_on,
    }


def _ledger_summary(state: CaseState, policy: PolicyTable) -> dict[str, dict[str, Decimal]]:
    return {
        p.pba_id: {
            "earned": p.earned,
            "paid": p.paid,
            "outstanding": p.outstanding,
            "cap_left": p.cap_left,
        }
        for p in ledger_view(state.ledger, policy)
    }


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Keys whose value differs, including keys that appear or vanish (a retracted PBA)."""
    return {
        k: {"from": before.get(k), "to": after.get(k)}
        for k in {**before, **after}
        if before.get(k) != after.get(k)
    }


def _as_of(known: list[Fact], state: CaseState, latest: date | None, day: date) -> CaseState:
    """`state` (the fold of `known`) as the case stood on `day`: itself when nothing in
    `known` is dated after `day`, else the facts dated up to `day` replayed."""
    return state if latest is None or day >= latest else replay_as_of(known, day)


def _latest(latest: date | None, fact: Fact) -> date | None:
    on = business_date(fact.data)
    return on if on is not None and (latest is None or on > latest) else latest


def case_history(
    events: Sequence[StoredEvent],
    facts: Sequence[Fact],
    policy: PolicyTable,
    *,
    as_of: date | None = None,
    known_at: datetime | None = None,
) -> list[dict[str, Any]]:
    """One row per event, judged on `as_of` or the event's own business date (see module),
    by the policy as known at `known_at` (default: now; docs/policy.md)."""
    policy = policy.as_known_at(known_at)
    retractions = {
        f.data.retracted_event_id: (e, f)
        for e, f in zip(events, facts, strict=True)
        if isinstance(f.data, EventRetracted)
    }
    rows, state, known, latest = [], initial_case_state(), [], None
    for stored, fact in zip(events, facts, strict=True):
        day = as_of or business_date(fact.data) or stored.recorded_at.date()
        before = _as_of(known, state, latest, day)
        known.append(fact)
        latest = _latest(latest, fact)
        state = replay(known) if isinstance(fact.data, EventRetracted) else evolve_case(state, fact)
        after = _as_of(known, state, latest, day)
        clock_after = _clock_summary(after, day, policy)
        ledger_after = _ledger_summary(after, policy)
        row = {
            **stored.to_json(),
            "clock": {
                "as_of": day.isoformat(),
                "after": clock_after,
                "changed": _changes(_clock_summary(before, day, policy), clock_after),
            },
            "ledger": {
                "after": ledger_after,
                "changed": _changes(_ledger_summary(before, policy), ledger_after),
            },
        }
        if stored.event_id in retractions:
            by, retraction = retractions[stored.event_id]
            row["retracted"] = {
                "by_event_id": str(by.event_id),
                "actor": by.metadata.get("actor"),
                "recorded_at": by.to_json()["recorded_at"],
                "reason": retraction.data.reason,
            }
        rows.append(row)
    return rows
