"""When a closed case's personal data is due for destruction, and the rules of legal holds.

Why pure: `caseledger retention run`, its `--dry-run` and the decider of
`CaseRecordsDestroyed` must agree on exactly which cases are due, and a test must be
able to say so for any date. A case is due when it closed `period_years` or more
before `today` (anniversary of the closure date; a closure on 29 February counts from
28 February in a common year) and no legal hold is in force on `today`.

Holds are (placed_on, lifted_on or None) pairs. A `LegalHoldPlaced` opens one; a
`LegalHoldLifted` ends every hold open on its `lifted_on` (placed on or before it):
the events name no hold, so a lift means "this case is no longer held", and a lift
with no open hold is refused (`legal_hold_not_in_force`). A hold lifted after
`today`, or never lifted, is in force.

`RetentionState` is the case's fold of these events (`app.domain.case.CaseState`):
the decider refuses a second destruction, a destruction the rule does not owe, and
any personal value once the case is destroyed (`case_records_destroyed`, the rule id
`CaseKeys` also answers with when the key is gone).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from app.domain.facts import Refusal
from app.domain.personal_data import personal_fields
from app.domain.policy import DEFAULT_RETENTION_YEARS, PolicyTable
from app.events import CaseRecordsDestroyed, EventData, LegalHoldLifted, LegalHoldPlaced

RULE = "retention_after_closure"
DESTROYED_RULE = "case_records_destroyed"
RETENTION_TYPES = frozenset({LegalHoldPlaced.TYPE, LegalHoldLifted.TYPE, CaseRecordsDestroyed.TYPE})

Hold = tuple[date, date | None]


@dataclass(frozen=True, slots=True)
class Due:
    """A case the run destroys, with what `CaseRecordsDestroyed` records."""

    case_id: str
    destroyed_on: date
    rule: str
    period_years: int


def years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a common year
        return day.replace(year=day.year + years, day=28)


def latest_due_closure(today: date, period_years: int) -> date:
    """A closure date after which no case can be due `today` (one day of slack for 29
    February): what a run's SQL filters on before the rule decides exactly."""
    return years_after(today, -period_years) + timedelta(days=1)


def hold_in_force(holds: Iterable[Hold], today: date) -> bool:
    return any(placed <= today and (lifted is None or lifted > today) for placed, lifted in holds)


def due_for_destruction(
    case_id: str,
    closed_on: date | None,
    holds: Iterable[Hold],
    *,
    today: date,
    period_years: int = DEFAULT_RETENTION_YEARS,
) -> Due | None:
    """The destruction a run owes this case today, or None (open, too recent, or held)."""
    if closed_on is None or years_after(closed_on, period_years) > today or hold_in_force(holds, today):
        return None
    return Due(case_id, today, RULE, period_years)


@dataclass(frozen=True, slots=True)
class RetentionState:
    """The case's holds and, once destroyed, the date of its destruction."""

    holds: tuple[Hold, ...] = ()
    destroyed_on: date | None = None


def placed(state: RetentionState, on: date) -> RetentionState:
    return replace(state, holds=(*state.holds, (on, None)))


def lifted(state: RetentionState, on: date) -> RetentionState:
    """Every hold open on `on` ends that day."""
    holds = tuple((p, on) if lift is None and p <= on else (p, lift) for p, lift in state.holds)
    return replace(state, holds=holds)


def evolve_retention(state: RetentionState, event: EventData) -> RetentionState:
    if isinstance(event, LegalHoldPlaced):
        return placed(state, event.placed_on)
    if isinstance(event, LegalHoldLifted):
        return lifted(state, event.lifted_on)
    if isinstance(event, CaseRecordsDestroyed):
        return replace(state, destroyed_on=event.destroyed_on)
    return state


def decide_retention(
    state: RetentionState, closed_on: date | None, event: EventData, policy: PolicyTable
) -> Refusal | None:
    """A retention event's refusal, or None; any other event once the case is destroyed:
    refused when it carries a personal value (the case takes no personal data)."""
    if state.destroyed_on is not None and carries_personal(event):
        return destroyed_refusal(state.destroyed_on, event)
    if isinstance(event, LegalHoldLifted) and not any(
        lift is None and p <= event.lifted_on for p, lift in state.holds
    ):
        return Refusal(
            "legal_hold_not_in_force",
            f"No legal hold placed on or before {event.lifted_on} is in force on this case, "
            "so there is none to lift.",
        )
    if isinstance(event, CaseRecordsDestroyed):
        return _decide_destruction(state, closed_on, event, policy)
    return None


def _decide_destruction(
    state: RetentionState, closed_on: date | None, event: CaseRecordsDestroyed, policy: PolicyTable
) -> Refusal | None:
    on = event.destroyed_on
    if state.destroyed_on is not None:
        return Refusal(DESTROYED_RULE, f"The case's records were already destroyed on {state.destroyed_on}.")
    if hold_in_force(state.holds, on):
        return Refusal("legal_hold_in_force", f"A legal hold is in force on {on}: the case is kept.")
    period = policy.retention_years(on)
    due = due_for_destruction("", closed_on, state.holds, today=on, period_years=period)
    if due is None or (event.rule, event.period_years) != (due.rule, due.period_years):
        closure = f"closed on {closed_on}" if closed_on else "open"
        return Refusal(
            "retention_not_due",
            f"The case is {closure}; on {on} the policy keeps a closed case {period} years "
            f"after closure ({RULE}), so {event.rule} with {event.period_years} years is not owed.",
        )
    return None


def destroyed_refusal(destroyed_on: date, event: EventData) -> Refusal:
    return Refusal(
        DESTROYED_RULE,
        f"The case's records were destroyed on {destroyed_on} (retention): it takes no "
        f"personal data, so {event.TYPE} with a free-text value cannot be recorded.",
    )


def carries_personal(event: EventData) -> bool:
    return any(getattr(event, name, None) is not None for name in personal_fields(event.TYPE))


@dataclass(frozen=True, slots=True)
class RetentionFacts:
    """What a run needs of a case, from its stored events (`facts_of`)."""

    closed_on: date | None
    state: RetentionState


def facts_of(events: Iterable[Mapping[str, Any]]) -> RetentionFacts:
    """The closure date and the retention state from stored events ({"event_id", "type",
    "data"}, in stream order, personal values left out): CaseClosed, EventRetracted and
    the retention events. A retracted closure does not count (retention events cannot be
    retracted: `app.domain.case.decide_retraction`)."""
    rows = list(events)
    retracted = {r["data"].get("retracted_event_id") for r in rows if r["type"] == "EventRetracted"}
    closed_on, state = None, RetentionState()
    for row in rows:
        kind, data = row["type"], row["data"]
        if kind == "CaseClosed" and str(row["event_id"]) not in retracted:
            closed_on = date.fromisoformat(data["closed_on"])
        elif kind == LegalHoldPlaced.TYPE:
            state = placed(state, date.fromisoformat(data["placed_on"]))
        elif kind == LegalHoldLifted.TYPE:
            state = lifted(state, date.fromisoformat(data["lifted_on"]))
        elif kind == CaseRecordsDestroyed.TYPE:
            state = replace(state, destroyed_on=date.fromisoformat(data["destroyed_on"]))
    return RetentionFacts(closed_on, state)
