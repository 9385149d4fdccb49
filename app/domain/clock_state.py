"""What the closure clock remembers of a case: the facts the 90-day timeline is computed from.

The state keeps facts, not conclusions: dates with the event that recorded them
and its stream version (the tie-break of contract 3.1). Which date starts the
clock, and the status, are computed on demand by `clock_as_of.evaluate_clock`
for an evaluation date, so the state never depends on "today".

Every field is a str, int, bool, date, UUID, None, a tuple, a dict[str, ...], a
nested frozen dataclass or a logged fact (`clock_log.Logged`: its event stored as its
type name and JSON payload), so the lead can store it as a JSON snapshot through
`pydantic.TypeAdapter(ClockState)` and read back an equal state. Sets are kept
as sorted tuples: the same state always gives the same JSON bytes.

Dicts are never changed once a state holds them: a fold copies one on write
(`{**old, key: value}`), so a state handed out stays what it was. No answer may
depend on a dict's order: the snapshot is stored as PostgreSQL jsonb, which
gives an object's keys back in its own order. What needs an order sorts by the
stream version (authorizations in issue order: by `issued.version`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from app.domain.clock_log import Logged
from app.domain.frozen import quick_init


@quick_init
@dataclass(frozen=True, slots=True)
class Dated:
    """A business date and the recorded event it comes from (its id and stream version)."""

    on: date
    event_id: UUID
    version: int


@quick_init
@dataclass(frozen=True, slots=True)
class Job:
    """One job of the case; `ended` is None while it is current."""

    job_id: str
    soc_code: str
    started: Dated
    ended: Dated | None = None
    temporary: bool = False
    career_pathway: str | None = None

    @property
    def current(self) -> bool:
        return self.ended is None


@quick_init
@dataclass(frozen=True, slots=True)
class Authorization:
    """An authorization with what the clock needs of its payments and cancellation.

    `issued.on` is the authorization's end date (the date rule (b) uses);
    `paid_in_full` is the latest payment flagged paid in full, `last_payment`
    the latest payment of any kind (rule (c) for a cancelled authorization).
    """

    authorization_id: str
    service_category: str
    start_date: date
    issued: Dated
    post_employment: bool = False
    successful_placement: bool = False
    m4: bool = False
    cancelled: Dated | None = None
    last_payment: Dated | None = None
    paid_in_full: Dated | None = None

    @property
    def end_date(self) -> date:
        return self.issued.on


@quick_init
@dataclass(frozen=True, slots=True)
class ClockStartCandidate:
    """A date that could start the clock, the rule it comes from, and what it says when it holds."""

    on: date
    version: int
    rule: str
    event_id: UUID
    holds: str


@quick_init
@dataclass(frozen=True, slots=True)
class Closure:
    """The closure, with the clock start it was closed on: the clock is frozen from then."""

    on: date
    outcome: str
    event_id: UUID
    version: int
    clock_start: ClockStartCandidate | None = None


@quick_init
@dataclass(frozen=True, slots=True)
class ClockState:
    """The fold of one case's stream as the closure clock sees it.

    `outcome` is the employment outcome date (the start date of the job that
    put the case in Employment Follow-up) and its EmploymentStarted; `jobs`
    holds every job the case ever had by job_id (a rehire replaces the earlier
    record); `authorizations` holds every authorization by id.

    The last two fields index `authorizations` so that the clock start is found
    without looking at every authorization (`clock_view.clock_start`):
    `rule_b_authorizations` are the ids, in issue order, of the authorizations
    whose end date still holds the clock start under rule (b) (not paid in full,
    not cancelled, not a successful placement); `rule_c_authorization` is the
    paid-in-full or cancelled authorization whose payment date is the latest
    under rule (c). A rule (c) date only ever moves later (the latest payment
    flagged paid in full, or for a cancelled authorization its latest payment),
    so keeping the latest one is enough.

    `log` keeps the facts folded so far, in stream order, and `latest_on` the latest
    business date among them (`app.domain.business_time`): a rule that names an
    earlier date judges the case as it stood then by re-folding the facts dated up
    to it (`clock_as_of.clock_as_of`), and on or after `latest_on` nothing is left
    out, so the state itself answers. Each logged fact is kept compactly (see
    `clock_log`): the state cache holds thousands of states.
    """

    opened: bool = False
    supported_employment: bool = False
    ipe_service_categories: tuple[str, ...] = ()
    jobs: dict[str, Job] = field(default_factory=dict)
    outcome: Dated | None = None
    outcome_job_id: str | None = None
    follow_up_cancelled: Dated | None = None
    m4_ended: Dated | None = None
    authorizations: dict[str, Authorization] = field(default_factory=dict)
    closed: Closure | None = None
    rule_b_authorizations: tuple[str, ...] = ()
    rule_c_authorization: str | None = None
    log: tuple[Logged, ...] = ()
    latest_on: date | None = None


def initial_clock_state() -> ClockState:
    return ClockState()


def ipe_categories(state: ClockState) -> frozenset[str]:
    """Service categories on the IPE: CaseOpened's plus every IPEAmended's additions so far."""
    return frozenset(state.ipe_service_categories)


def is_closed(state: ClockState) -> bool:
    return state.closed is not None


def find_job(state: ClockState, job_id: str) -> Job | None:
    return state.jobs.get(job_id)


def current_jobs(state: ClockState) -> tuple[Job, ...]:
    return tuple(job for job in state.jobs.values() if job.ended is None)


def has_current_job(state: ClockState) -> bool:
    return any(job.ended is None for job in state.jobs.values())


def outcome_job(state: ClockState) -> Job | None:
    """The job whose start date is the employment outcome date (the one 3.4 continuity keeps)."""
    return None if state.outcome_job_id is None else find_job(state, state.outcome_job_id)


def last_ended_job(state: ClockState) -> Job | None:
    """The job whose EmploymentEnded was recorded last: what a not_employed status names."""
    ended = [job for job in state.jobs.values() if job.ended is not None]
    return max(ended, key=lambda job: job.ended.version if job.ended else 0, default=None)


def find_authorization(state: ClockState, authorization_id: str) -> Authorization | None:
    return state.authorizations.get(authorization_id)


def in_employment_follow_up(state: ClockState) -> bool:
    """True from an employment outcome until "Cancel EF" (closure is checked separately)."""
    return state.outcome is not None and state.follow_up_cancelled is None


def open_phase(state: ClockState) -> str:
    """The phase the case would be in if it were not closed; see `clock_phase`."""
    if state.outcome is None:
        return "not_employed"
    if state.follow_up_cancelled is not None:
        return "follow_up_cancelled"
    if not has_current_job(state):
        return "not_employed"
    if state.supported_employment and state.m4_ended is None:
        return "awaiting_m4"
    return "in_follow_up"


def clock_phase(state: ClockState) -> str:
    """The date-independent phase: not_employed, awaiting_m4, in_follow_up, follow_up_cancelled
    or closed. Only in_follow_up has a clock; the others are also the status."""
    return "closed" if state.closed is not None else open_phase(state)
