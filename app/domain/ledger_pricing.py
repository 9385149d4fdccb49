"""Pricing a PBA's milestone claims, and the adjustments a later policy adoption makes.

A claim is priced by the policy version in force on its `reached_on` as known when
the claim was recorded (its `recorded_at`): money already earned never changes
silently. When a version adopted later would price it differently (a retroactive
`effective_from`), the line keeps the amount it was recorded with and an
`AdjustmentLine` per adoption says old amount, new amount, the difference and the
adoption; the PBA's totals count the adjustments (docs/policy.md).

Each claim's amount under a table is the chain of `price_claims`: the rate in
force on `reached_on`, limited by the cap left, nothing for a re-placement.
Adjustments telescope: a line's amount plus its adjustments is its amount under
the table as known now, so the totals equal pricing every claim by that table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from app.domain.hashing import timestamp_text
from app.domain.ledger_state import Pba
from app.domain.policy import PolicyTable

CENTS = Decimal("0.01")
ZERO = Decimal("0.00")
REPLACEMENT = "re-placed by the provider with no additional payment"

# (rate, amount earned, note) of one claim.
Priced = tuple[Decimal, Decimal, str | None]


@dataclass(frozen=True, slots=True)
class AdjustmentLine:
    """What an adoption changed in the price of a milestone recorded before it."""

    event_id: UUID
    milestone: str
    reached_on: date
    old_amount: Decimal
    new_amount: Decimal
    policy_version: int
    adopted_at: datetime
    adopted_by: str

    @property
    def difference(self) -> Decimal:
        return self.new_amount - self.old_amount

    def to_json(self) -> dict[str, Any]:
        return {
            "event_id": str(self.event_id),
            "milestone": self.milestone,
            "reached_on": self.reached_on.isoformat(),
            "old_amount": str(self.old_amount.quantize(CENTS)),
            "new_amount": str(self.new_amount.quantize(CENTS)),
            "difference": str(self.difference.quantize(CENTS)),
            "policy_version": self.policy_version,
            "adopted_at": timestamp_text(self.adopted_at),
            "adopted_by": self.adopted_by,
        }


@dataclass(frozen=True, slots=True)
class PricedPba:
    """`lines`: each claim as priced when recorded; `now`: its amount under the table as
    known now (what the totals count); `adjustments`: the difference, per adoption."""

    lines: tuple[Priced, ...]
    now: tuple[Decimal, ...]
    adjustments: tuple[AdjustmentLine, ...]


def price_pba(pba: Pba, policy: PolicyTable) -> PricedPba:
    """The PBA's claims priced as recorded, with the adjustments made since (see module)."""
    current = price_claims(pba, policy)
    now = tuple(amount for _, amount, _ in current)
    total = len(policy.adoptions)
    counts = [max(1, policy.known_count(c.recorded_at)) for c in pba.claims]
    if total < 2 or all(count >= total for count in counts):
        return PricedPba(current, now, ())
    tables: dict[int, tuple[Priced, ...]] = {total: current}

    def under(count: int) -> tuple[Priced, ...]:
        """The claims priced by the first `count` adoptions (each table priced once)."""
        if count not in tables:
            tables[count] = price_claims(pba, policy.through(count))
        return tables[count]

    lines = tuple(under(count)[i] for i, count in enumerate(counts))
    return PricedPba(lines, now, _adjustments(pba, policy, counts, under))


def _adjustments(
    pba: Pba, policy: PolicyTable, counts: list[int], under: Callable[[int], tuple[Priced, ...]]
) -> tuple[AdjustmentLine, ...]:
    """One line per adoption after a claim's recording that changed its amount, by adoption."""
    found = []
    for count in range(2, len(policy.adoptions) + 1):
        adoption = policy.adoptions[count - 1]
        for i, claim in enumerate(pba.claims):
            old, new = under(count - 1)[i][1], under(count)[i][1]
            if count > counts[i] and old != new:
                found.append(
                    AdjustmentLine(
                        claim.event_id,
                        claim.milestone,
                        claim.reached_on,
                        old,
                        new,
                        adoption.number,
                        adoption.adopted_at,
                        adoption.adopted_by,
                    )
                )
    return tuple(found)


def price_claims(pba: Pba, policy: PolicyTable) -> tuple[Priced, ...]:
    """Every claim of the PBA priced by `policy`, in order (the cap counts earlier claims)."""
    priced: list[Priced] = []
    earned = ZERO
    for claim in pba.claims:
        rate = policy.milestone_rate(claim.milestone, claim.reached_on).quantize(CENTS)
        if claim.repeat_of is not None:
            priced.append((rate, ZERO, _repeat_note(pba, claim.repeat_of, claim.milestone)))
            continue
        cap = policy.pba_cap(claim.reached_on).quantize(CENTS)
        left = max(ZERO, cap - earned)
        if rate <= left:
            priced.append((rate, rate, None))
        else:
            priced.append((rate, left, _capped_note(left, cap, claim.reached_on, rate)))
        earned += priced[-1][1]
    return tuple(priced)


def _capped_note(left: Decimal, cap: Decimal, reached_on: date, rate: Decimal) -> str:
    return (
        f"limited to the {_money(left)} left under the cap of {_money(cap)} per consumer per PBA "
        f"in force on {reached_on} (rate {_money(rate)})"
    )


def _money(amount: Decimal) -> str:
    return str(amount.quantize(CENTS))


def _repeat_note(pba: Pba, repeat_of: UUID, milestone: str) -> str:
    earlier = next(c for c in pba.claims if c.event_id == repeat_of)
    when = (
        f"the {milestone} of PBA {pba.pba_id} was earned on {earlier.reached_on} (event {earlier.event_id})"
    )
    if milestone == "job_hire":
        return f"{REPLACEMENT}: {when} and the consumer lost that job"
    return f"paid once per provider, per open PBA: {when}"
