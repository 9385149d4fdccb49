"""The policy table: every number of the rules, with the date it takes effect.

Agencies configure these (the contract calls each one a default); a rule asks
the table for the version in force on the date that matters to it, so a rate
change applies from its effective date and history replays identically.

The table is recorded history too (docs/policy.md): each version is adopted at a
moment by someone (`Adoption`), and a table built from adoptions keeps them, so
`as_known_at(moment)` gives the table the service used at that moment. A table
without adoptions (the built-in one, a file, a test's) is the same at every moment.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import MappingProxyType
from typing import Any

from app.events.types import MILESTONE_ORDER, Milestone

DEFAULT_RETENTION_YEARS = 5
MAX_RETENTION_YEARS = 100


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    """One row of the policy table, in force from `effective_from` until the next row."""

    effective_from: date
    closure_wait_days: int
    milestone_rates: MappingProxyType[Milestone, Decimal]
    pba_cap_per_consumer: Decimal
    # Years after closure a case's personal data is kept (docs/privacy.md); 5 in Nebraska and Utah.
    retention_years: int = DEFAULT_RETENTION_YEARS

    def rate(self, milestone: Milestone) -> Decimal:
        return self.milestone_rates[milestone]


@dataclass(frozen=True, slots=True)
class Adoption:
    """A version as adopted: its number in the chain (1, 2, ...), when and by whom."""

    number: int
    adopted_at: datetime
    adopted_by: str
    version: PolicyVersion


@dataclass(frozen=True, slots=True)
class PolicyTable:
    """The versions in force by effective date; `adoptions`, when the table was built from
    recorded history (`from_adoptions`), the adoptions it is made of, in adoption order."""

    versions: tuple[PolicyVersion, ...] = field(default_factory=tuple)
    adoptions: tuple[Adoption, ...] = ()

    def __post_init__(self) -> None:
        if not self.versions:
            raise ValueError("a policy table needs at least one version")
        ordered = tuple(sorted(self.versions, key=lambda v: v.effective_from))
        object.__setattr__(self, "versions", ordered)

    @classmethod
    def from_adoptions(cls, adoptions: tuple[Adoption, ...]) -> PolicyTable:
        """The table the adoptions make: a later adoption with the same effective date
        replaces the earlier version of that date."""
        by_start = {a.version.effective_from: a.version for a in adoptions}
        return cls(tuple(by_start.values()), adoptions)

    def through(self, count: int) -> PolicyTable:
        """The table of the first `count` adoptions (at least the first); itself without adoptions."""
        count = max(1, count)
        if not self.adoptions or count >= len(self.adoptions):
            return self
        return PolicyTable.from_adoptions(self.adoptions[:count])

    def known_count(self, moment: datetime | None) -> int:
        """How many adoptions were made by `moment`; None stands for a claim kept in a
        snapshot from before claims remembered their recording time, which only the
        first adoption's versions (the seeded ones) had priced."""
        if not self.adoptions:
            return 0
        if moment is None:
            moment = self.adoptions[0].adopted_at
        return sum(1 for a in self.adoptions if a.adopted_at <= moment)

    def as_known_at(self, moment: datetime | None) -> PolicyTable:
        """The table as the service knew it at `moment` (None: now, itself)."""
        if moment is None or not self.adoptions:
            return self
        return self.through(self.known_count(moment))

    def in_force_on(self, on: date) -> PolicyVersion:
        """The version whose effective date is the latest one not after `on`."""
        chosen = self.versions[0]
        for version in self.versions:
            if version.effective_from <= on:
                chosen = version
            else:
                break
        return chosen

    def closure_wait_days(self, on: date) -> int:
        """Days of employment with no service outstanding before closure (default 90)."""
        return self.in_force_on(on).closure_wait_days

    def milestone_rate(self, milestone: Milestone, reached_on: date) -> Decimal:
        """A milestone is priced by the table in force on its `reached_on`."""
        return self.in_force_on(reached_on).rate(milestone)

    def pba_cap(self, on: date) -> Decimal:
        """The most paid per consumer per PBA (default 3800.00)."""
        return self.in_force_on(on).pba_cap_per_consumer

    def retention_years(self, on: date) -> int:
        """Years after closure a case is kept, by the version in force on the day of the
        retention run (docs/privacy.md says why that day; default 5)."""
        return self.in_force_on(on).retention_years


def policy_version(
    effective_from: date,
    *,
    closure_wait_days: int,
    rates: dict[Milestone, Decimal],
    pba_cap: Decimal,
    retention_years: int = DEFAULT_RETENTION_YEARS,
) -> PolicyVersion:
    missing = [m for m in MILESTONE_ORDER if m not in rates]
    if missing:
        raise ValueError(f"policy version {effective_from} lacks rates for {missing}")
    if closure_wait_days < 1:
        raise ValueError("closure_wait_days must be at least 1")
    if not 1 <= retention_years <= MAX_RETENTION_YEARS:
        raise ValueError(f"retention_years must be from 1 to {MAX_RETENTION_YEARS}")
    return PolicyVersion(
        effective_from=effective_from,
        closure_wait_days=closure_wait_days,
        milestone_rates=MappingProxyType(dict(rates)),
        pba_cap_per_consumer=pba_cap,
        retention_years=retention_years,
    )


DEFAULT_POLICY = PolicyTable(
    (
        policy_version(
            date(1900, 1, 1),
            closure_wait_days=90,
            rates={
                "placement_plan_signed": Decimal("1000.00"),
                "job_hire": Decimal("1300.00"),
                "successful_placement": Decimal("1500.00"),
            },
            pba_cap=Decimal("3800.00"),
        ),
    )
)


def load_policy(path: Path) -> PolicyTable:
    """Read an agency's table: a JSON list of versions shaped like DEFAULT_POLICY's rows."""
    rows: list[dict[str, Any]] = json.loads(path.read_text())
    return PolicyTable(tuple(version_from_row(row) for row in rows))


ROW_KEYS = frozenset({"effective_from", "closure_wait_days", "milestone_rates", "pba_cap_per_consumer"})
# A row may leave it out: the default applies (files written before it existed stay valid).
OPTIONAL_ROW_KEYS = frozenset({"retention_years"})
CENTS = Decimal("0.01")
MAX_WAIT_DAYS = 3650


def version_from_row(row: Mapping[str, Any]) -> PolicyVersion:
    """One row of the policy file (or of an adoption's body); ValueError says what is wrong."""
    if not isinstance(row, Mapping) or not ROW_KEYS <= set(row) <= ROW_KEYS | OPTIONAL_ROW_KEYS:
        raise ValueError(
            f"a policy row has the fields {sorted(ROW_KEYS)}, and optionally {sorted(OPTIONAL_ROW_KEYS)}"
        )
    rates = row["milestone_rates"]
    if not isinstance(rates, Mapping) or set(rates) != set(MILESTONE_ORDER):
        raise ValueError(f"milestone_rates names exactly {list(MILESTONE_ORDER)}")
    days = row["closure_wait_days"]
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_WAIT_DAYS:
        raise ValueError(f"closure_wait_days is a whole number of days from 1 to {MAX_WAIT_DAYS}")
    years = row.get("retention_years", DEFAULT_RETENTION_YEARS)
    if isinstance(years, bool) or not isinstance(years, int) or not 1 <= years <= MAX_RETENTION_YEARS:
        raise ValueError(f"retention_years is a whole number of years from 1 to {MAX_RETENTION_YEARS}")
    try:
        effective_from = date.fromisoformat(str(row["effective_from"]))
    except ValueError:
        raise ValueError("effective_from is a date, YYYY-MM-DD") from None
    return policy_version(
        effective_from,
        closure_wait_days=days,
        rates={name: _amount(f"milestone_rates.{name}", rates[name]) for name in MILESTONE_ORDER},
        pba_cap=_amount("pba_cap_per_consumer", row["pba_cap_per_consumer"]),
        retention_years=years,
    )


def _amount(name: str, value: Any) -> Decimal:
    """Dollars and cents, not negative, at most 1e9: given as a string or a number."""
    try:
        amount = (
            Decimal(str(value))
            if isinstance(value, str | int | float) and not isinstance(value, bool)
            else None
        )
    except InvalidOperation:
        amount = None
    if (
        amount is None
        or not amount.is_finite()
        or amount < 0
        or amount >= 10**9
        or amount != amount.quantize(CENTS)
    ):
        raise ValueError(f'{name} is an amount in dollars and cents, e.g. "1000.00"')
    return amount.quantize(CENTS)


def version_record(version: PolicyVersion) -> dict[str, Any]:
    """The canonical JSON form of a version: what is stored and listed."""
    return {
        **hashed_record(version),
        "retention_years": version.retention_years,
    }


def hashed_record(version: PolicyVersion) -> dict[str, Any]:
    """What the versions' hash chain covers: the canonical form, `retention_years` left out
    at its default. Versions adopted before the field existed (migration 0009) hash as they
    did, and a version with another period is covered like every other number."""
    record: dict[str, Any] = {
        "effective_from": version.effective_from.isoformat(),
        "closure_wait_days": version.closure_wait_days,
        "milestone_rates": {name: str(version.rate(name).quantize(CENTS)) for name in MILESTONE_ORDER},
        "pba_cap_per_consumer": str(version.pba_cap_per_consumer.quantize(CENTS)),
    }
    if version.retention_years != DEFAULT_RETENTION_YEARS:
        record["retention_years"] = version.retention_years
    return record


def table_to_plain(table: PolicyTable) -> tuple[Any, ...]:
    """The table as plain values that pickle (mapping proxies do not): for worker processes."""
    versions = tuple(version_record(v) for v in table.versions)
    adoptions = tuple(
        (a.number, a.adopted_at, a.adopted_by, version_record(a.version)) for a in table.adoptions
    )
    return versions, adoptions


def table_from_plain(plain: tuple[Any, ...]) -> PolicyTable:
    versions, adoptions = plain
    if adoptions:
        return PolicyTable.from_adoptions(
            tuple(Adoption(n, at, by, version_from_row(record)) for n, at, by, record in adoptions)
        )
    return PolicyTable(tuple(version_from_row(record) for record in versions))
