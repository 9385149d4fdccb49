"""The policy table: every number of the rules, with the date it takes effect.

Agencies configure these (the contract calls each one a default); a rule asks
the table for the version in force on the date that matters to it, so a rate
change applies from its effective date and history replays identically.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

from app.events.types import MILESTONE_ORDER, Milestone


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    """One row of the policy table, in force from `effective_from` until the next row."""

    effective_from: date
    closure_wait_days: int
    milestone_rates: MappingProxyType[Milestone, Decimal]
    pba_cap_per_consumer: Decimal

    def rate(self, milestone: Milestone) -> Decimal:
        return self.milestone_rates[milestone]


@dataclass(frozen=True, slots=True)
class PolicyTable:
    versions: tuple[PolicyVersion, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not self.versions:
            raise ValueError("a policy table needs at least one version")
        ordered = tuple(sorted(self.versions, key=lambda v: v.effective_from))
        object.__setattr__(self, "versions", ordered)

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


def policy_version(
    effective_from: date,
    *,
    closure_wait_days: int,
    rates: dict[Milestone, Decimal],
    pba_cap: Decimal,
) -> PolicyVersion:
    missing = [m for m in MILESTONE_ORDER if m not in rates]
    if missing:
        raise ValueError(f"policy version {effective_from} lacks rates for {missing}")
    if closure_wait_days < 1:
        raise ValueError("closure_wait_days must be at least 1")
    return PolicyVersion(
        effective_from=effective_from,
        closure_wait_days=closure_wait_days,
        milestone_rates=MappingProxyType(dict(rates)),
        pba_cap_per_consumer=pba_cap,
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
    return PolicyTable(
        tuple(
            policy_version(
                date.fromisoformat(row["effective_from"]),
                closure_wait_days=int(row["closure_wait_days"]),
                rates={k: Decimal(str(v)) for k, v in row["milestone_rates"].items()},
                pba_cap=Decimal(str(row["pba_cap_per_consumer"])),
            )
            for row in rows
        )
    )
