"""Audit replay: what each event changed in the clock and the ledger.

Uses the same pure folds as the read models: after each event the case is
replayed as it was known then (retractions up to that point applied), and the
row shows the clock and ledger amounts before and after.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from app.domain.case import CaseState, clock_view, evolve_case, initial_case_state, replay
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


def case_history(
    events: Sequence[StoredEvent],
    facts: Sequence[Fact],
    policy: PolicyTable,
    *,
    as_of: date | None = None,
) -> list[dict[str, Any]]:
    """One row per event; the clock's status is judged on `as_of` or the day it was recorded."""
    retractions = {
        f.data.retracted_event_id: (e, f)
        for e, f in zip(events, facts, strict=True)
        if isinstance(f.data, EventRetracted)
    }
    rows, state, known = [], initial_case_state(), []
    ledger_before: dict[str, Any] = {}
    for stored, fact in zip(events, facts, strict=True):
        day = as_of or stored.recorded_at.date()
        clock_before = _clock_summary(state, day, policy)
        known.append(fact)
        state = replay(known) if isinstance(fact.data, EventRetracted) else evolve_case(state, fact)
        row = {
            **stored.to_json(),
            "clock": {"after": _clock_summary(state, day, policy)},
            "ledger": {"after": _ledger_summary(state, policy)},
        }
        row["clock"]["changed"] = _changes(clock_before, row["clock"]["after"])
        row["ledger"]["changed"] = _changes(ledger_before, row["ledger"]["after"])
        ledger_before = row["ledger"]["after"]
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
