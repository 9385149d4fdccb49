"""What adopting a proposed policy version would change, judged from the stored read models.

Only the cases whose answers can change are looked at: a clock whose start lies in
the window where the proposed version would be in force (`affected_window`), and a
PBA with a milestone reached in that window (or, with none, opened in it: its cap).
The clock's eligible date is its start plus the wait in force on the start; a PBA's
amounts are its claims priced again by `price_claims`, rebuilt from the stored
lines (the first claim of a milestone earns it, a later one repeats it). Every
claim stored was recorded before the adoption, so after it the totals are the
claims priced by the new table (the lines keep their amounts, adjustments differ).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from app.domain.clock_view import eligible_on_for, status_on
from app.domain.ledger_pricing import CENTS, ZERO, price_claims
from app.domain.ledger_state import Claim, Pba
from app.domain.policy import Adoption, PolicyTable, PolicyVersion

FAR_FUTURE = date(9999, 12, 31)
AMOUNTS = ("earned", "outstanding", "cap", "cap_left")


def affected_window(table: PolicyTable, effective_from: date) -> tuple[date, date]:
    """[effective_from, the next version's effective date): where the proposal would be in force."""
    later = [v.effective_from for v in table.versions if v.effective_from > effective_from]
    return effective_from, min(later, default=FAR_FUTURE)


def with_proposed(table: PolicyTable, version: PolicyVersion, at: datetime, by: str) -> PolicyTable:
    """The table as it would be once `version` is adopted at `at`."""
    if not table.adoptions:
        kept = tuple(v for v in table.versions if v.effective_from != version.effective_from)
        return PolicyTable((*kept, version))
    adoption = Adoption(len(table.adoptions) + 1, at, by, version)
    return PolicyTable.from_adoptions((*table.adoptions, adoption))


def clock_change(row: dict[str, Any], after: PolicyTable, today: date) -> tuple[dict, dict] | None:
    """(before, after) of a stored clock row's status and eligible date, if they change."""
    start, phase = row["clock_start"], row["phase"]
    before = {"status": status_on(phase, start, row["eligible_on"], today), "eligible_on": row["eligible_on"]}
    moved = eligible_on_for(start, after)
    now = {"status": status_on(phase, start, moved, today), "eligible_on": moved}
    return None if now == before else (_dated(before), _dated(now))


def _dated(clock: dict[str, Any]) -> dict[str, Any]:
    return {**clock, "eligible_on": clock["eligible_on"] and clock["eligible_on"].isoformat()}


def ledger_change(detail: dict[str, Any], after: PolicyTable) -> tuple[dict, dict] | None:
    """(before, after) of a stored PBA's amounts, if they change."""
    before = {k: detail[k] for k in AMOUNTS}
    lines = detail["milestones"]
    pba = _pba_of(detail)
    amounts = [amount for _, amount, _ in price_claims(pba, after)]
    earned = sum(amounts, ZERO).quantize(CENTS)
    outstanding = sum(
        (max(ZERO, amount - Decimal(line["paid"])) for amount, line in zip(amounts, lines, strict=True)), ZERO
    )
    cap = after.pba_cap(pba.claims[-1].reached_on if pba.claims else pba.opened_on).quantize(CENTS)
    now = {
        "earned": str(earned),
        "outstanding": str(outstanding.quantize(CENTS)),
        "cap": str(cap),
        "cap_left": str(max(ZERO, cap - earned)),
    }
    return None if now == before else (before, now)


def _pba_of(detail: dict[str, Any]) -> Pba:
    claims: list[Claim] = []
    earning: dict[str, UUID] = {}
    for line in detail["milestones"]:
        event_id = UUID(line["event_id"])
        first = earning.setdefault(line["milestone"], event_id)
        claims.append(
            Claim(
                event_id=event_id,
                milestone=line["milestone"],
                reached_on=date.fromisoformat(line["reached_on"]),
                authorization_id=line["authorization_id"],
                repeat_of=None if first == event_id else first,
            )
        )
    return Pba(
        detail["pba_id"], detail["provider_id"], date.fromisoformat(detail["opened_on"]), claims=tuple(claims)
    )


def case_changes(
    case_id: str,
    clock_row: dict[str, Any] | None,
    pbas: Sequence[dict[str, Any]],
    after: PolicyTable,
    today: date,
) -> dict[str, Any] | None:
    """`{case_id, before, after}` for a case whose clock or ledger amounts change, else None."""
    before: dict[str, Any] = {}
    now: dict[str, Any] = {}
    clock = clock_change(clock_row, after, today) if clock_row is not None else None
    if clock is not None:
        before["clock"], now["clock"] = clock
    for detail in pbas:
        money = ledger_change(detail, after)
        if money is not None:
            before.setdefault("ledger", {})[detail["pba_id"]] = money[0]
            now.setdefault("ledger", {})[detail["pba_id"]] = money[1]
    return {"case_id": case_id, "before": before, "after": now} if before else None
