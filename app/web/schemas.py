"""The answers of the read routes that build their JSON by hand, as pydantic models.

The routes answer dicts through `deps.JSONResponse` (no response validation on the hot
path); these models say what those dicts hold, field by field, so that `openapi.yaml`
types every answer and a generated client is typed end to end. The tests compare real
answers with these models (`tests/integration/test_openapi.py`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from app.events.types import Milestone
from app.web.routes.events import StoredEventOut

Money = Annotated[str, Field(pattern=r"^-?\d+\.\d{2}$", description="a decimal amount, two places: 1300.00")]


class MilestoneLineOut(BaseModel):
    milestone: Milestone
    reached_on: date
    event_id: UUID
    authorization_id: str
    rate: Money
    amount: Money = Field(description="what the milestone earned")
    note: str | None = Field(description="why `amount` differs from `rate`")
    authorized: Money
    paid: Money
    outstanding: Money


class AdjustmentLineOut(BaseModel):
    """What a later policy adoption changed in the price of a milestone recorded before it."""

    event_id: UUID
    milestone: Milestone
    reached_on: date
    old_amount: Money
    new_amount: Money
    difference: Money
    policy_version: int
    adopted_at: datetime
    adopted_by: str


class PbaOut(BaseModel):
    pba_id: str
    provider_id: str
    opened_on: date
    ended_on: date | None
    end_reason: str | None
    status: Literal["open", "ended"]
    milestones: list[MilestoneLineOut]
    earned: Money
    authorized: Money
    paid: Money
    outstanding: Money
    cap: Money
    cap_left: Money
    anomalies: list[str]
    adjustments: list[AdjustmentLineOut] = Field(
        default_factory=list, description="price changes by policy adoptions after a milestone"
    )


class ProviderPbaOut(PbaOut):
    case_id: str


class RefusedClaimOut(BaseModel):
    """A provider's claim the rules refused: not an event, kept in its own log."""

    case_id: str
    pba_id: str | None
    provider_id: str | None
    type: str
    data: dict[str, Any]
    rule: str = Field(description="the refusal's rule id (see Problem.rule)")
    detail: str
    actor: str
    refused_at: datetime


class MoneyTotals(BaseModel):
    earned: Money
    authorized: Money
    paid: Money
    outstanding: Money


class ProviderTotals(MoneyTotals):
    pbas: int
    open_pbas: int


class CaseLedgerOut(BaseModel):
    case_id: str
    pbas: list[PbaOut]
    totals: MoneyTotals
    refused_claims: list[RefusedClaimOut]


class ProviderLedgerOut(BaseModel):
    provider_id: str
    totals: ProviderTotals
    pbas: list[ProviderPbaOut]
    next_cursor: str | None = Field(description="the `cursor` of the next page; null on the last")
    refused_claims: list[RefusedClaimOut]


class Change(BaseModel):
    """A value before and after an event (null where it did not exist)."""

    from_: Any = Field(alias="from")
    to: Any


class ClockSummary(BaseModel):
    status: str
    clock_start: date | None
    clock_start_rule: str | None
    eligible_on: date | None


class ClockStep(BaseModel):
    as_of: date = Field(description="the day the clock's status is judged on")
    after: ClockSummary
    changed: dict[str, Change] = Field(description="the fields of `after` this event changed")


class PbaSummary(BaseModel):
    earned: Money
    paid: Money
    outstanding: Money
    cap_left: Money


class LedgerStep(BaseModel):
    after: dict[str, PbaSummary] = Field(description="each PBA of the case by pba_id")
    changed: dict[str, Change] = Field(description="the PBAs this event changed, by pba_id")


class Retraction(BaseModel):
    by_event_id: UUID
    actor: str | None
    recorded_at: datetime
    reason: str


class HistoryEventOut(StoredEventOut):
    clock: ClockStep
    ledger: LedgerStep
    retracted: Retraction | None = Field(None, description="present when a later event retracted this one")


class HistoryOut(BaseModel):
    case_id: str
    known_at: datetime | None
    events: list[HistoryEventOut]
    next_from_version: int | None = Field(description="the next page's `from_version`; null on the last page")


class VerifyOut(BaseModel):
    """The hash chain recomputed: `ok` with its length and last hash, or where it breaks."""

    case_id: str
    ok: bool
    events: int | None = Field(None, description="when ok: how many events the chain holds")
    last_hash: str | None = Field(None, description="when ok: the hash of the last event")
    broken_at_version: int | None = Field(None, description="when not ok: the first broken version")
    event_id: UUID | None = Field(None, description="when a stored hash differs: its event")
    reason: str | None = Field(None, description="when not ok: what differs")
    stored_hash: str | None = None
    recomputed_hash: str | None = None
    broken_versions: list[int] = Field(description="every broken version, in order; empty when ok")


class KeyListed(BaseModel):
    key_id: str
    role: Literal["case_system", "provider", "auditor", "admin"]
    provider_id: str | None
    label: str | None
    created_at: datetime
    revoked_at: datetime | None


class KeysOut(BaseModel):
    keys: list[KeyListed]


class HealthOut(BaseModel):
    status: Literal["ok"]


class ReadyOut(BaseModel):
    status: Literal["ready"]
    revision: str
