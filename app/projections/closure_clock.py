"""The closure-clock read model: one row per case for the case system's worklist.

Only the date-independent parts are stored (phase, clock start, eligible_on, and
the explanation: the rule and event that set the clock start, what holds it, or
why there is no clock); the status, days remaining and time left for an
evaluation date are derived from them with the clock's own `clock_on`, in SQL
for the worklist (`app.store.read_models`) and in Python for a single case. So GET closure-clock reads one
row, never folds, and says exactly what a fold would.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from app.domain.case import CaseState
from app.domain.clock import clock_facts
from app.domain.policy import PolicyTable

WORKLIST_STATUSES = (
    "not_employed",
    "awaiting_m4",
    "waiting",
    "running",
    "eligible",
    "follow_up_cancelled",
    "closed",
)


def clock_row(state: CaseState, policy: PolicyTable) -> dict[str, Any] | None:
    if not state.opened:
        return None
    facts = clock_facts(state.clock, policy)
    return {
        "phase": facts.phase,
        "clock_start": facts.clock_start.isoformat() if facts.clock_start else None,
        "eligible_on": facts.eligible_on.isoformat() if facts.eligible_on else None,
        "explanation": {
            "rule": facts.clock_start_rule,
            "event_id": str(facts.clock_start_event_id) if facts.clock_start_event_id else None,
            "holds": list(facts.holds),
            "reason": facts.reason,
            # The latest business date folded: the row answers an `as_of` on or after it
            # (ClockFacts.answers_for); an earlier one needs a fold of the facts dated up to it.
            "latest_on": facts.latest_on.isoformat() if facts.latest_on else None,
        },
    }


STORED_COLUMNS = "phase, clock_start, eligible_on, explanation"


def stored_clock_row(record: Mapping[str, Any]) -> dict[str, Any]:
    """A stored closure_clock row (its STORED_COLUMNS) in `clock_row`'s form, to compare them."""
    return {
        "phase": record["phase"],
        "clock_start": record["clock_start"] and record["clock_start"].isoformat(),
        "eligible_on": record["eligible_on"] and record["eligible_on"].isoformat(),
        "explanation": record["explanation"],
    }


_SENTINEL = date(9999, 12, 31)


def encode_cursor(eligible_on: date | None, case_id: str) -> str:
    return f"{(eligible_on or _SENTINEL).isoformat()}~{case_id}"


def decode_cursor(cursor: str) -> tuple[date, str]:
    day, _, case_id = cursor.partition("~")
    return date.fromisoformat(day), case_id
