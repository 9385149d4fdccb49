"""evolve_clock: fold one recorded fact into the closure clock's state.

Total over every event type and forgiving: it never raises. `decide_clock`
refuses bad events before they are recorded, but the case layer re-folds a
stream without its retracted events, so a payment may arrive for an
authorization whose issue was retracted; such facts are ignored here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from app.domain.business_time import business_date
from app.domain.clock_state import (
    Authorization,
    ClockState,
    Closure,
    Dated,
    Job,
    Logged,
    in_employment_follow_up,
)
from app.domain.clock_view import clock_start, holds_by_end_date, rule_c_date
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
    EventRetracted, whose effect the case layer applies by re-folding) leave it as it is.
    Every fact the clock folds is kept in `log`, with the latest business date seen."""
    step = EVOLVERS.get(fact.data.TYPE)
    if step is None:
        return state
    on = business_date(fact.data)
    latest = state.latest_on
    if on is not None and (latest is None or on > latest):
        latest = on
    logged = (
        Logged(fact.event_id, fact.version, fact.data)
        if fact.stored is None
        else Logged.stored(fact.event_id, fact.version, fact.data.TYPE, fact.stored)
    )
    return step(state, fact).changed(log=(*state.log, logged), latest_on=latest)


def _dated(fact: Fact, on: date) -> Dated:
    return Dated(on=on, event_id=fact.event_id, version=fact.version)


def _later(current: Dated | None, candidate: Dated) -> Dated:
    """The later of two dated facts; on the same date the higher stream version wins."""
    if current is None or (candidate.on, candidate.version) >= (current.on, current.version):
        return candidate
    return current


# Every step builds the next ClockState with `changed(...)` (app.domain.frozen), naming
# only what its event changes at the cost of the constructor: `dataclasses.replace`
# costs about twice as much and the folds call it on every event.


def _case_opened(s: ClockState, fact: Fact) -> ClockState:
    data = fact.data
    assert isinstance(data, CaseOpened)
    return s.changed(
        opened=True,
        supported_employment=data.supported_employment,
        ipe_service_categories=tuple(sorted(set(data.ipe_service_categories))),
    )


def _ipe_amended(s: ClockState, fact: Fact) -> ClockState:
    data = fact.data
    assert isinstance(data, IPEAmended)
    categories = s.ipe_service_categories
    if data.service_categories_added:
        categories = tuple(sorted(set(categories) | set(data.service_categories_added)))
    supported = s.supported_employment
    if data.supported_employment is not None:
        supported = data.supported_employment
    return s.changed(supported_employment=supported, ipe_service_categories=categories)


def _employment_started(s: ClockState, fact: Fact) -> ClockState:
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
    jobs = {**s.jobs, job.job_id: job}
    outcome, outcome_job_id, follow_up_cancelled = job.started, job.job_id, None
    continues = data.continuous_with_job_id
    if continues and in_employment_follow_up(s) and continues in jobs:
        outcome, outcome_job_id, follow_up_cancelled = s.outcome, s.outcome_job_id, s.follow_up_cancelled
    return s.changed(
        jobs=jobs,
        outcome=outcome,
        outcome_job_id=outcome_job_id,
        follow_up_cancelled=follow_up_cancelled,
    )


def _employment_ended(s: ClockState, fact: Fact) -> ClockState:
    data = fact.data
    assert isinstance(data, EmploymentEnded)
    job = s.jobs.get(data.job_id)
    if job is None or job.ended is not None:
        return s
    ended = job.changed(ended=_dated(fact, data.end_date))
    return s.changed(jobs={**s.jobs, job.job_id: ended})


def _follow_up_cancelled(s: ClockState, fact: Fact) -> ClockState:
    data = fact.data
    assert isinstance(data, EmploymentFollowUpCancelled)
    return s.changed(follow_up_cancelled=_dated(fact, data.cancelled_on))


def _case_closed(s: ClockState, fact: Fact) -> ClockState:
    data = fact.data
    assert isinstance(data, CaseClosed)
    closure = Closure(
        on=data.closed_on,
        outcome=data.outcome,
        event_id=fact.event_id,
        version=fact.version,
        clock_start=clock_start(s),
    )
    return s.changed(closed=closure)


def _authorization_issued(s: ClockState, fact: Fact) -> ClockState:
    data = fact.data
    assert isinstance(data, AuthorizationIssued)
    if data.authorization_id in s.authorizations:
        return s
    authorization = Authorization(
        authorization_id=data.authorization_id,
        service_category=data.service_category,
        start_date=data.start_date,
        issued=_dated(fact, data.end_date),
        post_employment=bool(data.post_employment),
        successful_placement=data.milestone == "successful_placement",
        m4=bool(data.m4),
    )
    return _with_authorization(s, None, authorization)


def _authorization_paid(s: ClockState, fact: Fact) -> ClockState:
    """Partial payments only move `last_payment`; a payment flagged paid in full also
    moves `paid_in_full` (the latest such counts under rule (c))."""
    data = fact.data
    assert isinstance(data, AuthorizationPaid)
    a = s.authorizations.get(data.authorization_id)
    if a is None:
        return s
    payment = _dated(fact, data.payment_date)
    updated = a.changed(
        last_payment=_later(a.last_payment, payment),
        paid_in_full=_later(a.paid_in_full, payment) if data.paid_in_full else a.paid_in_full,
    )
    return _with_authorization(s, a, updated)


def _authorization_cancelled(s: ClockState, fact: Fact) -> ClockState:
    data = fact.data
    assert isinstance(data, AuthorizationCancelled)
    a = s.authorizations.get(data.authorization_id)
    if a is None or a.cancelled is not None:
        return s
    cancelled = a.changed(cancelled=_dated(fact, data.cancelled_on))
    return _with_authorization(s, a, cancelled)


def _with_authorization(s: ClockState, before: Authorization | None, after: Authorization) -> ClockState:
    """The state with `after` in place of `before` (None: newly issued), and the rule (b)
    and (c) indexes of `ClockState` kept up to date.

    An authorization leaves rule (b) for good once it is paid in full or cancelled; from
    then on its rule (c) date only moves later, so it takes the rule (c) place when its
    date passes the holder's (on the same date, the higher stream version).
    """
    key = after.authorization_id
    authorizations = {**s.authorizations, key: after}
    rule_b = s.rule_b_authorizations
    rule_c = s.rule_c_authorization
    if before is None:
        if holds_by_end_date(after):
            rule_b = (*rule_b, key)
    elif not holds_by_end_date(after):
        if holds_by_end_date(before):
            rule_b = tuple(b for b in rule_b if b != key)
        rule_c = _rule_c_holder(authorizations, rule_c, after)
    return s.changed(authorizations=authorizations, rule_b_authorizations=rule_b, rule_c_authorization=rule_c)


def _rule_c_holder(
    authorizations: dict[str, Authorization], holder: str | None, candidate: Authorization
) -> str | None:
    """The authorization whose rule (c) date is the latest, now that `candidate`'s moved.

    Dates compare as (date, stream version); versions are unique in a stream, so two
    authorizations never tie.
    """
    paid = rule_c_date(candidate)
    if paid is None or holder == candidate.authorization_id:
        return holder
    held = None if holder is None else rule_c_date(authorizations[holder])
    if held is None or (paid.on, paid.version) > (held.on, held.version):
        return candidate.authorization_id
    return holder


def _m4_ended(s: ClockState, fact: Fact) -> ClockState:
    data = fact.data
    assert isinstance(data, M4Ended)
    return s.changed(m4_ended=_later(s.m4_ended, _dated(fact, data.end_date)))


EVOLVERS: dict[str, Callable[[ClockState, Fact], ClockState]] = {
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
# Retention events (legal holds, destruction) leave the clock as it was: a destroyed case's
# clock still answers (docs/privacy.md).
IGNORED_BY_CLOCK = frozenset(
    {
        "PBAOpened",
        "PBAMilestoneReached",
        "PBAEnded",
        "EventRetracted",
        "LegalHoldPlaced",
        "LegalHoldLifted",
        "CaseRecordsDestroyed",
    }
)
