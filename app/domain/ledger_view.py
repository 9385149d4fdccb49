"""The payment ledger as a provider, a counselor or an auditor reads it (contract 4.1, 4.7).

Prices are computed here, not stored: each milestone is priced by the policy table in
force on its `reached_on` as known when it was recorded, and a later adoption that
changes that price shows as an adjustment line (`app.domain.ledger_pricing`), so an
agency's rate change applies from its effective date and replaying history gives
the same amounts.

The cap: the policy says "A maximum of $3,800 will be paid per consumer"; the contract
says per consumer per PBA. Read with the policy's FAQ (a new PBA is started "so the
community rehabilitation provider can receive initial milestone payments again", which a
lifetime cap equal to the three rates would forbid), the two agree: the cap is per
consumer per PBA, and it is the cap in force on the milestone's `reached_on`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from app.domain.frozen import quick_init
from app.domain.ledger_pricing import AdjustmentLine, PricedPba, price_pba
from app.domain.ledger_state import Authorization, Claim, LedgerState, Payment, Pba
from app.domain.policy import PolicyTable

CENTS = Decimal("0.01")
ZERO = Decimal("0.00")


def money(amount: Decimal) -> str:
    """Dollars and cents as the contract writes them: "1300.00".

    `str` of a Decimal with two decimal places is its fixed-point form (it only switches
    to an exponent below 1e-6), and costs half of `format(..., "f")`.
    """
    return str(amount.quantize(CENTS))


@quick_init
@dataclass(frozen=True, slots=True)
class MilestoneLine:
    """One recorded milestone claim, priced. `amount` is what it earned; `note` says why
    that differs from `rate`. `authorized` and `paid` are those of its authorization
    (0.00 for a cancelled one, and on a re-placement that names the same authorization
    as the hire before it: that authorization's money is shown on the earlier line)."""

    milestone: str
    reached_on: date
    event_id: UUID
    authorization_id: str
    rate: Decimal
    amount: Decimal
    note: str | None
    authorized: Decimal
    paid: Decimal
    outstanding: Decimal

    def to_json(self) -> dict[str, Any]:
        """Plain JSON, field by field: money as strings ("1300.00"), dates ISO, ids as strings.

        Written out rather than walked generically: the service stores this after every
        append (the ledger read model), so it is on the append's path.
        """
        return {
            "milestone": self.milestone,
            "reached_on": self.reached_on.isoformat(),
            "event_id": str(self.event_id),
            "authorization_id": self.authorization_id,
            "rate": money(self.rate),
            "amount": money(self.amount),
            "note": self.note,
            "authorized": money(self.authorized),
            "paid": money(self.paid),
            "outstanding": money(self.outstanding),
        }


@quick_init
@dataclass(frozen=True, slots=True)
class PbaLedger:
    """One PBA's account. `paid` counts every payment on the PBA's milestone authorizations,
    `outstanding` sums what each earned milestone still lacks (a payment beyond one
    milestone's earning does not pay another's; it is an anomaly)."""

    pba_id: str
    provider_id: str
    opened_on: date
    ended_on: date | None
    end_reason: str | None
    status: str
    milestones: tuple[MilestoneLine, ...]
    earned: Decimal
    authorized: Decimal
    paid: Decimal
    outstanding: Decimal
    cap: Decimal
    cap_left: Decimal
    anomalies: tuple[str, ...]
    adjustments: tuple[AdjustmentLine, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Plain JSON, as `MilestoneLine.to_json`; the keys in field order."""
        ended_on = self.ended_on
        return {
            "pba_id": self.pba_id,
            "provider_id": self.provider_id,
            "opened_on": self.opened_on.isoformat(),
            "ended_on": None if ended_on is None else ended_on.isoformat(),
            "end_reason": self.end_reason,
            "status": self.status,
            "milestones": [line.to_json() for line in self.milestones],
            "earned": money(self.earned),
            "authorized": money(self.authorized),
            "paid": money(self.paid),
            "outstanding": money(self.outstanding),
            "cap": money(self.cap),
            "cap_left": money(self.cap_left),
            "anomalies": list(self.anomalies),
            "adjustments": [a.to_json() for a in self.adjustments],
        }


def ledger_view(state: LedgerState, policy: PolicyTable) -> tuple[PbaLedger, ...]:
    """Every PBA of the case by opening date (then id), each PBA's pre-authorizations by id.

    Never in the state's dict order: a snapshot read back from PostgreSQL's jsonb has
    its keys shortest first, and the view (anomalies included) must not depend on
    whether the state came from a snapshot or a fresh fold.
    """
    if not state.pbas:
        return ()
    by_pba: dict[str, dict[str, Authorization]] = {}
    for authorization_id in sorted(state.authorizations):
        a = state.authorizations[authorization_id]
        if a.pba_id is not None and a.milestone is not None:
            by_pba.setdefault(a.pba_id, {})[authorization_id] = a
    pbas = sorted(state.pbas.values(), key=lambda p: (p.opened_on, p.pba_id))
    return tuple(_pba_ledger(pba, by_pba.get(pba.pba_id, {}), policy) for pba in pbas)


def _total(amounts: Iterable[Decimal]) -> Decimal:
    return sum(amounts, ZERO).quantize(CENTS)


def _pba_ledger(pba: Pba, auths: dict[str, Authorization], policy: PolicyTable) -> PbaLedger:
    priced = price_pba(pba, policy)
    lines = _lines(pba, auths, priced)
    earned = _total(priced.now)  # the lines as recorded plus their adjustments
    cap = policy.pba_cap(pba.claims[-1].reached_on if pba.claims else pba.opened_on).quantize(CENTS)
    return PbaLedger(
        pba_id=pba.pba_id,
        provider_id=pba.provider_id,
        opened_on=pba.opened_on,
        ended_on=pba.ended_on,
        end_reason=pba.end_reason,
        status="open" if pba.is_open else "ended",
        milestones=lines,
        earned=earned,
        authorized=_total(a.amount for a in auths.values() if a.cancelled_on is None),
        paid=_total(a.paid for a in auths.values()),
        outstanding=_total(line.outstanding for line in lines),
        cap=cap,
        cap_left=max(ZERO, cap - earned),
        anomalies=_anomalies(pba, lines, auths),
        adjustments=priced.adjustments,
    )


def _lines(pba: Pba, auths: dict[str, Authorization], priced: PricedPba) -> tuple[MilestoneLine, ...]:
    lines: list[MilestoneLine] = []
    shown: set[str] = set()  # authorizations whose money an earlier line shows
    for claim, (rate, amount, note), now in zip(pba.claims, priced.lines, priced.now, strict=True):
        first = claim.authorization_id not in shown
        shown.add(claim.authorization_id)
        auth = auths.get(claim.authorization_id) if first else None
        lines.append(_line(claim, rate, amount, note, auth, now))
    return tuple(lines)


def _line(
    claim: Claim,
    rate: Decimal,
    amount: Decimal,
    note: str | None,
    auth: Authorization | None,
    amount_now: Decimal,
) -> MilestoneLine:
    """`amount` as recorded; `outstanding` is what the amount as known now (its
    adjustments counted) still lacks."""
    paid = auth.paid.quantize(CENTS) if auth is not None else ZERO
    authorized = auth.amount if auth is not None and auth.cancelled_on is None else ZERO
    return MilestoneLine(
        milestone=claim.milestone,
        reached_on=claim.reached_on,
        event_id=claim.event_id,
        authorization_id=claim.authorization_id,
        rate=rate,
        amount=amount,
        note=note,
        authorized=authorized.quantize(CENTS),
        paid=paid,
        outstanding=max(ZERO, amount_now - paid),
    )


def _anomalies(
    pba: Pba, lines: tuple[MilestoneLine, ...], auths: dict[str, Authorization]
) -> tuple[str, ...]:
    """Accepted facts a person should look at: money beyond what was earned, or a
    pre-authorization withdrawn after its milestone was earned."""
    claimed = {line.authorization_id for line in lines}
    found = [
        f"authorization {line.authorization_id} has paid {money(line.paid)} for PBA "
        f"{pba.pba_id}'s {line.milestone} reached on {line.reached_on}, "
        f"{money(line.paid - line.amount)} more than the {money(line.amount)} earned."
        for line in lines
        if line.paid > line.amount
    ]
    for auth in auths.values():
        if auth.authorization_id not in claimed:
            found += [_unearned_payment(pba, auth, payment) for payment in auth.payments]
        elif auth.cancelled_on is not None:
            found.append(
                f"authorization {auth.authorization_id}, on which PBA {pba.pba_id}'s "
                f"{auth.milestone} was earned, was cancelled on {auth.cancelled_on}."
            )
    return tuple(found)


def _unearned_payment(pba: Pba, auth: Authorization, payment: Payment) -> str:
    return (
        f"payment {payment.event_id} of {money(payment.amount)} on {payment.payment_date} "
        f"on authorization {auth.authorization_id} "
        f"pays PBA {pba.pba_id}'s {auth.milestone}, which no milestone claim of the PBA has earned."
    )
