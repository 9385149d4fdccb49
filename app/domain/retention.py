"""When a closed case's personal data is due for destruction (issue 13, item 3).

Why pure: `caseledger retention run` (to be wired) and its `--dry-run` must agree on
exactly which cases are due, and a test must be able to say so for any date. A case
is due when it closed `period_years` or more before `today` (anniversary of the
closure date; a closure on 29 February counts from 28 February in a common year)
and no legal hold is in force on `today`. Holds are (placed_on, lifted_on or None)
pairs, from `LegalHoldPlaced` / `LegalHoldLifted`; a hold lifted after `today`, or
never lifted, is in force.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

DEFAULT_RETENTION_YEARS = 5  # Nebraska and Utah: 5 years after closure (docs/privacy.md)
RULE = "retention_after_closure"


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


def hold_in_force(holds: Iterable[tuple[date, date | None]], today: date) -> bool:
    return any(placed <= today and (lifted is None or lifted > today) for placed, lifted in holds)


def due_for_destruction(
    case_id: str,
    closed_on: date | None,
    holds: Iterable[tuple[date, date | None]],
    *,
    today: date,
    period_years: int = DEFAULT_RETENTION_YEARS,
) -> Due | None:
    """The destruction a run owes this case today, or None (open, too recent, or held)."""
    if closed_on is None or years_after(closed_on, period_years) > today or hold_in_force(holds, today):
        return None
    return Due(case_id, today, RULE, period_years)
