"""evolve_clock: fold one recorded fact into the closure clock's state.

Total over every event type and forgiving: it never raises. `decide_clock`
refuses bad events before they are recorded, but the case layer re-folds a
stream without its retracted events, so a payment may arrive for an
authorization whose issue was retracted; such facts are ignored here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date

from app.domain.clock_state import (
    Authorization,
    ClockState,
    Closure,
    Dated,
    Job,
    find_authorization,
    find_job,
    in_employment_follow_up,
)
from app.domain.clock_view import clock_start
from app.domain.facts import Fact
from app.events import (
    AuthorizationCancelled,
    AuthorizationIssued,
    AuthorizationPaid,
    CaseClosed,
    CaseOpened,
    EmploymentEnded,
    EmploymentFollowUpCancelled,
    EmploymentStarted,
    IPEAmended,
    M4Ended,
)


def evolve_clock(state: ClockState, fact: Fact) -> ClockState:
    """The state after `fact`; events the clock does not care about (PBA events,
    EventRetracted, whose effect the case layer applies by re-folding) leave it as it is."""
    step = _EVOLVERS.get(fact.type)
    return state if step is None else step(state, fact)


def _dated(fact: Fact, on: date) -> Dated:
    return Dated(on=on, event_id=fact.event_id, version=fact.version)


def _later(current: Dated | None, candidate: Dated) -> Dated:
    """The later of two dated facts; on the same date the higher stream version wins."""
    if current is None or (candidate.on, candidate.version) >= (current.on, current.version):
        return candidate
    return current


def _case_opened(state: ClockState, fact: Fact) -> ClockState:
    data = fact.data
    assert isinstance(data, CaseOpened)
    return replace(
        state,
        opened=True,
        supported_employment=data.supported_employment,
        ipe_service_categories=tuple(sorted(set(data.ipe_service_categories))),
    )


def _ipe_amended(state: ClockState, fact: Fact) -> ClockState:
    data = fact.data
    assert isinstance(data, IPEAmended)
    categories = set(state.ipe_service_categories) | set(data.service_categories_added)
    supported = state.supported_employment
    if data.supported_employment is not None:
        supported = data.supported_employment
    return replace(
        state, ipe_service_categories=tuple(sorted(categories)), supported_employment=supported
    )


def _employment_started(state: ClockState, fact: Fact) -> ClockState:
    """A new job is the employment outcome and restarts the clock at its start date (3.4),
    unless it continues a job the case had while in Employment Follow-up: then the
    earlier outcome date stands. A rehired job_id replaces its earlier record."""
    data = fact.data
    assert isinstance(data, EmploymentStarted)
    job = Job(
        job_id=data.job_id,
        soc_code=data.soc_code,
        started=_dated(fact, data.start_date),
        temporary=bool(data.temporary),
        career_pathway=data.career_pathway,
    )
    others = tuple(j for j in state.jobs if j.job_id != data.job_id)
    state = replace(state, jobs=(*others, job))
    continues = data.continuous_with_job_id
    if continues and in_employment_follow_up(state) and find_job(state, continues):
        return state
    return replace(state, outcome=job.started, outcome_job_id=job.job_id, follow_up_cancelled=None)


def _employment_ended(state: ClockState, fact: Fact) -> ClockState:
    data = fact.data
    assert isinstance(data, EmploymentEnded)
    job = find_job(state, data.job_id)
    if job is None or not job.current:
        return state
    ended = replace(job, ended=_dated(fact, data.end_date))
    return replace(state, jobs=tuple(ended if j is job else j for j in state.jobs))


def _follow_up_cancelled(state: ClockState, fact: Fact) -> ClockState:
    data = fact.data
    assert isinstance(data, EmploymentFollowUpCancelled)
    return replace(state, follow_up_cancelled=_dated(fact, data.cancelled_on))


def _case_closed(state: ClockState, fact: Fact) -> ClockState:
    data = fact.data
    assert isinstance(data, CaseClosed)
    closure = Closure(
        on=data.closed_on,
        outcome=data.outcome,
        event_id=fact.event_id,
        version=fact.version,
        clock_start=clock_start(state),
    )
    return replace(state, closed=closure)


def _authorization_issued(state: ClockState, fact: Fact) -> ClockState:
    data = fact.data
    assert isinstance(data, AuthorizationIssued)
    if find_authorization(state, data.authorization_id) is not None:
        return state
    authorization = Authorization(
        authorization_id=data.authorization_id,
        service_category=data.service_category,
        start_date=data.start_date,
        issued=_dated(fact, data.end_date),
        post_employment=bool(data.post_employment),
        successful_placement=data.milestone == "successful_placement",
        m4=bool(data.m4),
    )
    return replace(state, authorizations=(*state.authorizations, authorization))


def _with_authorization(state: ClockState, updated: Authorization) -> ClockState:
    authorizations = tuple(
        updated if a.authorization_id == updated.authorization_id else a
        for a in state.authorizations
    )
    return replace(state, authorizations=authorizations)


def _authorization_paid(state: ClockState, fact: Fact) -> ClockState:
    """Partial payments only move `last_payment`; a payment flagged paid in full also
    moves `paid_in_full` (the latest such counts under rule (c))."""
    data = fact.data
    assert isinstance(data, AuthorizationPaid)
    authorization = find_authorization(state, data.authorization_id)
    if authorization is None:
        return state
    payment = _dated(fact, data.payment_date)
    updated = replace(authorization, last_payment=_later(authorization.last_payment, payment))
    if data.paid_in_full:
        updated = replace(updated, paid_in_full=_later(authorization.paid_in_full, payment))
    return _with_authorization(state, updated)


def _authorization_cancelled(state: ClockState, fact: Fact) -> ClockState:
    data = fact.data
    assert isinstance(data, AuthorizationCancelled)
    authorization = find_authorization(state, data.authorization_id)
    if authorization is None or authorization.cancelled is not None:
        return state
    cancelled = replace(authorization, cancelled=_dated(fact, data.cancelled_on))
    return _with_authorization(state, cancelled)


def _m4_ended(state: ClockState, fact: Fact) -> ClockState:
    data = fact.data
    assert isinstance(data, M4Ended)
    return replace(state, m4_ended=_later(state.m4_ended, _dated(fact, data.end_date)))


_EVOLVERS: dict[str, Callable[[ClockState, Fact], ClockState]] = {
    CaseOpened.TYPE: _case_opened,
    IPEAmended.TYPE: _ipe_amended,
    EmploymentStarted.TYPE: _employment_started,
    EmploymentEnded.TYPE: _employment_ended,
    EmploymentFollowUpCancelled.TYPE: _follow_up_cancelled,
    CaseClosed.TYPE: _case_closed,
    AuthorizationIssued.TYPE: _authorization_issued,
    AuthorizationPaid.TYPE: _authorization_paid,
    AuthorizationCancelled.TYPE: _authorization_cancelled,
    M4Ended.TYPE: _m4_ended,
}

# The event types the clock deliberately ignores; a test checks that every type of
# the registry is either evolved above or listed here, so a new type cannot slip by.
IGNORED_BY_CLOCK = frozenset({"PBAOpened", "PBAMilestoneReached", "PBAEnded", "EventRetracted"})
