"""What the timeline draws: rows of spans and marks, vertical rules, the axis range."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

RULE_NAMES = {
    "a_employment_outcome": "(a) employment outcome",
    "b_authorization_not_paid_in_full": "(b) authorization not paid in full",
    "c_authorization_paid_in_full": "(c) authorization paid in full",
    "m4_ended": "M4 ended",
}
MILESTONE_NAMES = {
    "placement_plan_signed": "plan signed",
    "job_hire": "job hire",
    "successful_placement": "successful placement",
}


@dataclass(frozen=True, slots=True)
class Entry:
    """One recorded event as the timeline needs it; `data` is the upcast event model."""

    version: int
    type: str
    data: Any
    retracted: str | None = None  # the retraction's note, when the event was retracted

    def mark(self, on: date, kind: str, label: str, title: str) -> Mark:
        return Mark(on, kind, label, title, self.version, self.retracted)

    def span(self, start: date, end: date | None, kind: str, label: str, title: str) -> Span:
        return Span(start, end, kind, label, title, self.version, self.retracted)


@dataclass(frozen=True, slots=True)
class Mark:
    """A dated fact drawn as a shape: a payment, a cancellation, a milestone claim..."""

    on: date
    kind: str
    label: str
    title: str
    version: int
    retracted: str | None = None


@dataclass(frozen=True, slots=True)
class Span:
    """A period drawn as a bar: a job, an authorization, a PBA."""

    start: date
    end: date | None  # None: continues past the end of the axis
    kind: str
    label: str
    title: str
    version: int
    retracted: str | None = None


@dataclass(slots=True)
class Row:
    key: str
    label: str
    sublabel: str = ""
    spans: list[Span] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Rule:
    """A date drawn across every row: clock start, eligible_on, closure, as_of."""

    on: date
    kind: str
    label: str
    title: str


@dataclass(frozen=True, slots=True)
class Timeline:
    rows: tuple[Row, ...]
    rules: tuple[Rule, ...]
    wait: tuple[date, date] | None
    first: date
    last: date
    as_of_shown: bool
