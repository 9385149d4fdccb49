"""Business time: on which calendar date each event happened, so a replay "as of" a date
leaves out what had not happened yet.

A case is read on two time axes. `known_at` (recording time) keeps only the events
recorded by then; `as_of` (business time) keeps only the events whose business date
lies on or before it. An event dated after `as_of` has not happened yet on `as_of`,
whatever order it was recorded in: the closure clock, the ledger, history, the
post-employment-services checklist and every rule that names a date (4.6 on
`reached_on`, 3.6 on `closed_on`) are judged on the case built from the events in
effect on that date. docs/business-time.md says the same for integrators.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from app.domain.facts import Fact
from app.events.types import EventData

BUSINESS_DATE_FIELDS: Mapping[str, tuple[str, ...]] = {
    "CaseOpened": ("opened_on",),
    "IPEAmended": ("amended_on",),
    "EmploymentStarted": ("start_date",),
    "EmploymentEnded": ("end_date",),
    "EmploymentFollowUpCancelled": ("cancelled_on",),
    "CaseClosed": ("closed_on",),
    "AuthorizationIssued": ("issued_on", "start_date"),
    "AuthorizationPaid": ("payment_date",),
    "AuthorizationCancelled": ("cancelled_on",),
    "M4Ended": ("end_date",),
    "PBAOpened": ("opened_on",),
    "PBAMilestoneReached": ("reached_on",),
    "PBAEnded": ("ended_on",),
    "EventRetracted": (),
    "LegalHoldPlaced": ("placed_on",),
    "LegalHoldLifted": ("lifted_on",),
    "CaseRecordsDestroyed": ("destroyed_on",),
}
"""Event type -> the data field(s) holding its business date, the first one present wins.

- An `AuthorizationIssued` counts from its optional `issued_on`, else from its
  service's `start_date`: before then it is not issued, it holds no clock start
  under rule (b) and pre-authorizes no milestone.
- `EventRetracted` has no business date: a retraction is a correction of the record,
  not a fact of the case, so it applies on every business date (from the moment it
  was recorded, which `known_at` governs): the retracted event never happened.
- A type missing from this table is a programming error (a test checks that every
  registered type is listed), never silently treated as dateless.
"""


def business_date(event: EventData) -> date | None:
    """The date `event` happened on, or None for an event that applies on every date."""
    for name in BUSINESS_DATE_FIELDS[event.TYPE]:
        value = getattr(event, name)
        if value is not None:
            return value
    return None


def happened_by(fact: Fact, as_of: date) -> bool:
    """Whether `fact` has happened on `as_of` (dateless facts always have)."""
    on = business_date(fact.data)
    return on is None or on <= as_of


def facts_as_of(facts: Iterable[Fact], as_of: date) -> list[Fact]:
    """The facts in effect on `as_of`, in stream order: the case as it stood that day."""
    return [f for f in facts if happened_by(f, as_of)]


def latest_business_date(facts: Iterable[Fact]) -> date | None:
    """The latest business date among `facts`: on or after it, `as_of` leaves nothing out."""
    dates = [d for f in facts if (d := business_date(f.data)) is not None]
    return max(dates, default=None)
