"""What the payment ledger remembers of a case, and how each recorded fact changes it.

The state keeps facts, not prices: a milestone claim remembers its date, its
authorization and whether it repeats an earlier claim, and `ledger_view` prices
it with the policy table in force on its `reached_on`. So a rate change never
rewrites history and the state needs no policy to be folded.

`evolve_ledger` enforces no rule (`decide_ledger` does, before an event is
recorded). The case layer re-folds a stream without its retracted events, so a
fact may name a PBA, authorization or job that is no longer there: such a fact
is ignored, never trusted.

Every field is a str, int, bool, date, Decimal, UUID, None, a tuple, a
dict[str, ...] or a nested frozen dataclass, so `pydantic.TypeAdapter(LedgerState)`
stores it as a JSON snapshot and reads back an equal state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from app.domain.facts import Fact
from app.domain.frozen import quick_init
from app.events import (
    AuthorizationCancelled,
    AuthorizationIssued,
    AuthorizationPaid,
    EmploymentEnded,
    EmploymentStarted,
    IPEAmended,
    PBAEnded,
    PBAMilestoneReached,
    PBAOpened,
)
from app.events.types import Milestone


@quick_init
@dataclass(frozen=True, slots=True)
class Payment:
    event_id: UUID
    payment_date: date
    amount: Decimal
    paid_in_full: bool


@quick_init
@dataclass(frozen=True, slots=True)
class Authorization:
    """Any authorization of the case; a milestone's pre-authorization has a pba_id and milestone.

    `payments` are kept for a milestone's pre-authorization only (see `_authorization_paid`).
    """

    authorization_id: str
    provider_id: str
    amount: Decimal
    pba_id: str | None = None
    milestone: Milestone | None = None
    cancelled_on: date | None = None
    payments: tuple[Payment, ...] = ()

    @property
    def paid(self) -> Decimal:
        return sum((p.amount for p in self.payments), Decimal("0.00"))


@quick_init
@dataclass(frozen=True, slots=True)
class Job:
    """A job of the case; `accepted_on` is the date of an IPE amendment, recorded after
    the job started, that accepts it as suitable (`accepts_job_id`), a temporary job say."""

    job_id: str
    start_date: date
    temporary: bool = False
    ended_on: date | None = None
    accepted_on: date | None = None

    def current_on(self, day: date) -> bool:
        """Started on or before `day` and not ended on or before it."""
        return self.start_date <= day and (self.ended_on is None or self.ended_on > day)


@quick_init
@dataclass(frozen=True, slots=True)
class Claim:
    """A recorded milestone claim. `repeat_of` is the event id of the earlier claim of the
    same milestone on the same PBA: a re-placement after a job loss, which earns nothing.
    `recorded_at` says which policy versions were known when it was recorded (it is
    priced by those, docs/policy.md); None in a snapshot taken before it was kept."""

    event_id: UUID
    milestone: Milestone
    reached_on: date
    authorization_id: str
    job_id: str | None = None
    repeat_of: UUID | None = None
    recorded_at: datetime | None = None


@quick_init
@dataclass(frozen=True, slots=True)
class Pba:
    pba_id: str
    provider_id: str
    opened_on: date
    ended_on: date | None = None
    end_reason: str | None = None
    claims: tuple[Claim, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.ended_on is None

    def earned(self, milestone: str) -> Claim | None:
        """The claim that earned `milestone` on this PBA (its first one), if any."""
        return next((c for c in self.claims if c.milestone == milestone and c.repeat_of is None), None)

    def claims_of(self, milestone: str) -> tuple[Claim, ...]:
        return tuple(c for c in self.claims if c.milestone == milestone)


@quick_init
@dataclass(frozen=True, slots=True)
class LedgerState:
    """PBAs, authorizations and jobs by id, each dict in the order the facts came."""

    pbas: dict[str, Pba] = field(default_factory=dict)
    authorizations: dict[str, Authorization] = field(default_factory=dict)
    jobs: dict[str, Job] = field(default_factory=dict)


def initial_ledger_state() -> LedgerState:
    return LedgerState()


def evolve_ledger(state: LedgerState, fact: Fact) -> LedgerState:
    """Fold one recorded fact; every event type is accepted, those the ledger does not
    need (and EventRetracted: the case layer re-folds without retracted events) change nothing."""
    step = _EVOLVERS.get(fact.data.TYPE)
    return state if step is None else step(state, fact)


def pba_provider(state: LedgerState, pba_id: str) -> str | None:
    """The PBA's provider: a provider's key may only touch its own PBA."""
    pba = state.pbas.get(pba_id)
    return pba.provider_id if pba is not None else None


def open_pba_id(state: LedgerState) -> str | None:
    """The case's one open PBA (one primary provider), if any."""
    return next((p.pba_id for p in state.pbas.values() if p.is_open), None)


# Every step builds what changed with `changed(...)` (app.domain.frozen), which costs what
# the constructor costs: `dataclasses.replace` costs about twice as much and the folds call
# it on every event. The dicts of a state are copied on write, never changed in place.


def _with_pba(state: LedgerState, pba: Pba) -> LedgerState:
    return state.changed(pbas={**state.pbas, pba.pba_id: pba})


def _with_authorization(state: LedgerState, auth: Authorization) -> LedgerState:
    return state.changed(authorizations={**state.authorizations, auth.authorization_id: auth})


def _with_job(state: LedgerState, job: Job) -> LedgerState:
    return state.changed(jobs={**state.jobs, job.job_id: job})


def _pba_opened(state: LedgerState, fact: Fact) -> LedgerState:
    e = fact.data
    assert isinstance(e, PBAOpened)
    if e.pba_id in state.pbas:
        return state
    return _with_pba(state, Pba(e.pba_id, e.provider_id, e.opened_on))


def _milestone_reached(state: LedgerState, fact: Fact) -> LedgerState:
    e = fact.data
    assert isinstance(e, PBAMilestoneReached)
    pba = state.pbas.get(e.pba_id)
    if pba is None:
        return state
    earlier = pba.earned(e.milestone)
    claim = Claim(
        event_id=fact.event_id,
        milestone=e.milestone,
        reached_on=e.reached_on,
        authorization_id=e.authorization_id,
        job_id=e.job_id,
        repeat_of=earlier.event_id if earlier is not None else None,
        recorded_at=fact.recorded_at,
    )
    return _with_pba(
        state,
        pba.changed(claims=(*pba.claims, claim)),
    )


def _pba_ended(state: LedgerState, fact: Fact) -> LedgerState:
    e = fact.data
    assert isinstance(e, PBAEnded)
    pba = state.pbas.get(e.pba_id)
    if pba is None or not pba.is_open:
        return state
    return _with_pba(
        state,
        pba.changed(ended_on=e.ended_on, end_reason=e.reason),
    )


def _authorization_issued(state: LedgerState, fact: Fact) -> LedgerState:
    e = fact.data
    assert isinstance(e, AuthorizationIssued)
    if e.authorization_id in state.authorizations:
        return state  # the first issue stands; decide refuses a milestone-relevant re-issue
    auth = Authorization(e.authorization_id, e.provider_id, e.amount, e.pba_id, e.milestone)
    return _with_authorization(state, auth)


def _authorization_paid(state: LedgerState, fact: Fact) -> LedgerState:
    """Payments are remembered for a milestone's pre-authorization only: no ledger rule or
    view reads what any other authorization was paid. So a payment of a post-employment
    service leaves the ledger as it was, and the service keeps the ledger rows it has."""
    e = fact.data
    assert isinstance(e, AuthorizationPaid)
    auth = state.authorizations.get(e.authorization_id)
    if auth is None or auth.pba_id is None or auth.milestone is None:
        return state
    payment = Payment(fact.event_id, e.payment_date, e.amount, e.paid_in_full)
    return _with_authorization(
        state,
        auth.changed(payments=(*auth.payments, payment)),
    )


def _authorization_cancelled(state: LedgerState, fact: Fact) -> LedgerState:
    e = fact.data
    assert isinstance(e, AuthorizationCancelled)
    auth = state.authorizations.get(e.authorization_id)
    if auth is None or auth.cancelled_on is not None:
        return state
    return _with_authorization(
        state,
        auth.changed(cancelled_on=e.cancelled_on),
    )


def _employment_started(state: LedgerState, fact: Fact) -> LedgerState:
    e = fact.data
    assert isinstance(e, EmploymentStarted)
    return _with_job(state, Job(e.job_id, e.start_date, temporary=bool(e.temporary)))


def _employment_ended(state: LedgerState, fact: Fact) -> LedgerState:
    e = fact.data
    assert isinstance(e, EmploymentEnded)
    job = state.jobs.get(e.job_id)
    if job is None:
        return state
    return _with_job(
        state,
        job.changed(ended_on=e.end_date),
    )


def _ipe_amended(state: LedgerState, fact: Fact) -> LedgerState:
    """Only a job already started can be accepted: the amendment must come after it."""
    e = fact.data
    assert isinstance(e, IPEAmended)
    job = state.jobs.get(e.accepts_job_id) if e.accepts_job_id is not None else None
    if job is None:
        return state
    return _with_job(
        state,
        job.changed(accepted_on=e.amended_on),
    )


_EVOLVERS: dict[str, Callable[[LedgerState, Fact], LedgerState]] = {
    PBAOpened.TYPE: _pba_opened,
    PBAMilestoneReached.TYPE: _milestone_reached,
    PBAEnded.TYPE: _pba_ended,
    AuthorizationIssued.TYPE: _authorization_issued,
    AuthorizationPaid.TYPE: _authorization_paid,
    AuthorizationCancelled.TYPE: _authorization_cancelled,
    EmploymentStarted.TYPE: _employment_started,
    EmploymentEnded.TYPE: _employment_ended,
    IPEAmended.TYPE: _ipe_amended,
}
