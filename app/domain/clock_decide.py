"""decide_clock: may this event be recorded, as far as the closure clock is concerned?

Returns None (acceptable) or a Refusal whose `rule` is a stable id; see the
table of rule ids in `app.domain.clock`. Pure: the evaluation date of a
closure is the event's own `closed_on`, never today.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.domain.clock_as_of import clock_as_of, evaluate_clock
from app.domain.clock_evolve import IGNORED_BY_CLOCK
from app.domain.clock_state import (
    ClockState,
    find_authorization,
    find_job,
    in_employment_follow_up,
    ipe_categories,
)
from app.domain.facts import Refusal
from app.domain.policy import PolicyTable
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
from app.events.types import EventData

# Policy: "Post-employment services cannot be provided after a case is closed. There
# are no exceptions." Payments and cancellations of earlier authorizations still are.
REFUSED_AFTER_CLOSURE = frozenset(
    {
        AuthorizationIssued.TYPE,
        EmploymentStarted.TYPE,
        EmploymentEnded.TYPE,
        IPEAmended.TYPE,
        EmploymentFollowUpCancelled.TYPE,
        M4Ended.TYPE,
        CaseClosed.TYPE,
    }
)


def decide_clock(state: ClockState, event: EventData, policy: PolicyTable) -> Refusal | None:
    """The clock's refusal of `event` given the case so far, or None.

    Whether the case is open (case_not_found, case_already_opened) is the case's
    rule, checked once by `app.domain.case.decide_case` before this is asked.
    """
    if event.TYPE in IGNORED_BY_CLOCK or event.TYPE == CaseOpened.TYPE:
        return None
    if state.closed is not None and event.TYPE in REFUSED_AFTER_CLOSURE:
        return _case_closed(state, event)
    decide = DECIDERS.get(event.TYPE)
    return None if decide is None else decide(state, event, policy)


def _case_closed(state: ClockState, event: EventData) -> Refusal:
    assert state.closed is not None
    return Refusal(
        "case_closed",
        f"The case was closed on {state.closed.on}, so {event.TYPE} cannot be recorded: "
        "no post-employment service or new employment can be recorded after closure, "
        "there are no exceptions, and a new case must be opened.",
    )


def _employment_started(state: ClockState, event: Any, _: PolicyTable) -> Refusal | None:
    assert isinstance(event, EmploymentStarted)
    known = find_job(state, event.job_id)
    if known is not None and known.current:
        return Refusal(
            "employment_already_current",
            f"Job {event.job_id} is already current (started {known.started.on}); "
            "end it before starting it again, or use a new job_id.",
        )
    if event.continuous_with_job_id is None:
        return None
    return _continuity_claim(state, event, event.continuous_with_job_id)


def _continuity_claim(state: ClockState, event: EmploymentStarted, named: str) -> Refusal | None:
    """3.4: a continuity claim keeps the earlier outcome date, so it must name an earlier
    job of this case in the same SOC code, within the same Employment Follow-up."""
    earlier = find_job(state, named)
    if earlier is None:
        return Refusal(
            "continuity_job_unknown",
            f"Job {event.job_id} claims to continue job {named}, which this case never had.",
        )
    if earlier.soc_code != event.soc_code:
        return Refusal(
            "continuity_soc_mismatch",
            f"Job {event.job_id} (SOC {event.soc_code}) cannot continue job {named} "
            f"(SOC {earlier.soc_code}): continuous employment needs the same SOC code; "
            "record it without continuous_with_job_id to restart the clock.",
        )
    if not in_employment_follow_up(state):
        return Refusal(
            "continuity_after_cancel_ef",
            f"Job {event.job_id} cannot continue job {named}: Employment Follow-up was "
            "cancelled (Cancel EF), so there is no outcome date to keep; record the job "
            "without continuous_with_job_id to re-enter Employment Follow-up.",
        )
    return None


def _employment_ended(state: ClockState, event: Any, _: PolicyTable) -> Refusal | None:
    assert isinstance(event, EmploymentEnded)
    job = find_job(state, event.job_id)
    if job is None or not job.current:
        return Refusal(
            "employment_not_current",
            f"Job {event.job_id} is not a current job of this case, so it cannot end.",
        )
    if event.end_date < job.started.on:
        return Refusal(
            "employment_end_before_start",
            f"Job {event.job_id} cannot end on {event.end_date}, before it started on {job.started.on}.",
        )
    return None


def _follow_up_cancelled(state: ClockState, event: Any, _: PolicyTable) -> Refusal | None:
    assert isinstance(event, EmploymentFollowUpCancelled)
    if in_employment_follow_up(state):
        return None
    return Refusal(
        "cancel_ef_not_in_employment_follow_up",
        "Cancel EF needs a case in Employment Follow-up: "
        + (
            "follow-up is already cancelled."
            if state.follow_up_cancelled is not None
            else "no employment outcome (EmploymentStarted) has been recorded."
        ),
    )


def _closure(state: ClockState, event: Any, policy: PolicyTable) -> Refusal | None:
    """3.6: a successful closure needs the clock to be eligible on the closure date, judged
    on the case as it stood that day (a job that ended later was current then)."""
    assert isinstance(event, CaseClosed)
    if event.outcome != "successful":
        return None
    view = evaluate_clock(state, event.closed_on, policy)
    if view.status == "eligible":
        return None
    if view.eligible_on is not None:
        why = f"the case becomes eligible for closure on {view.eligible_on}"
    else:
        why = f"there is no closure clock ({view.status}): {' '.join(view.blocking)}"
    return Refusal(
        "not_eligible_for_closure",
        f"A successful closure on {event.closed_on} is refused: {why}",
    )


def _authorization_issued(state: ClockState, event: Any, _: PolicyTable) -> Refusal | None:
    """3.7 and the policy's "Amendment": a post-employment service in a category not
    already on the IPE requires an IPE amendment first."""
    assert isinstance(event, AuthorizationIssued)
    if find_authorization(state, event.authorization_id) is not None:
        return Refusal(
            "authorization_already_issued",
            f"Authorization {event.authorization_id} was already issued; an authorization_id is used once.",
        )
    why = post_employment_reason(state, event)
    if why is not None and event.service_category not in ipe_categories(state):
        return Refusal(
            "pes_category_not_on_ipe",
            f"Authorization {event.authorization_id} is a post-employment service ({why}) in "
            f"category {event.service_category}, which is not on the IPE: adding a service in a "
            "category that was not previously on the IPE as a post-employment service requires "
            f"an amendment, so record an IPEAmended adding {event.service_category} first. "
            "(A PBA milestone pre-authorization and the supported-employment M4 authorization "
            "are not post-employment services and need no amendment.)",
        )
    return None


def post_employment_reason(state: ClockState, event: AuthorizationIssued) -> str | None:
    """Why `event` authorizes a post-employment service, or None when it does not.

    Policy item 1: "All services provided from employment outcome (date a client starts
    a job) until the case is closed are post-employment services", so a service that
    starts on or after the outcome in effect on its start date, in Employment Follow-up,
    is one whether or not the case system sets `post_employment`. Not services on the
    IPE, so never post-employment: a PBA milestone pre-authorization (`pba_id`: the
    provider's payment for a phase of placement, "payment in full for all services
    delivered during that phase") and supported employment's M4 authorization (`m4`:
    the service whose end, the transition to extended services, starts the SE clock).
    """
    if event.post_employment:
        return "flagged post_employment"
    if event.pba_id is not None or event.m4:
        return None
    then = clock_as_of(state, event.start_date)
    if then.outcome is None or not in_employment_follow_up(then) or then.closed is not None:
        return None
    return (
        f"its service starts on {event.start_date}, on or after the employment outcome of "
        f"{then.outcome.on}: all services from the employment outcome until the case is closed "
        "are post-employment services"
    )


def _authorization_paid(state: ClockState, event: Any, _: PolicyTable) -> Refusal | None:
    """A payment needs an issued authorization and a date on or after its service starts.
    A cancelled authorization is still paid: a late invoice for service given before the
    cancellation; it counts under rule (c) at its latest payment (contract 3.3)."""
    assert isinstance(event, AuthorizationPaid)
    authorization = find_authorization(state, event.authorization_id)
    if authorization is None:
        return _unknown_authorization(event.authorization_id, "paid")
    if event.payment_date < authorization.start_date:
        return Refusal(
            "payment_before_authorization_start",
            f"Authorization {event.authorization_id} cannot be paid on {event.payment_date}, "
            f"before its service starts on {authorization.start_date}.",
        )
    return None


def _authorization_cancelled(state: ClockState, event: Any, _: PolicyTable) -> Refusal | None:
    assert isinstance(event, AuthorizationCancelled)
    authorization = find_authorization(state, event.authorization_id)
    if authorization is None:
        return _unknown_authorization(event.authorization_id, "cancelled")
    if authorization.cancelled is not None:
        return Refusal(
            "authorization_already_cancelled",
            f"Authorization {event.authorization_id} was already cancelled on {authorization.cancelled.on}.",
        )
    if authorization.paid_in_full is not None:
        return Refusal(
            "authorization_paid_in_full",
            f"Authorization {event.authorization_id} was paid in full on "
            f"{authorization.paid_in_full.on}: there is nothing left to cancel.",
        )
    return None


def _m4_ended(state: ClockState, event: Any, _: PolicyTable) -> Refusal | None:
    assert isinstance(event, M4Ended)
    if not state.supported_employment:
        return Refusal(
            "m4_ended_not_supported_employment",
            "M4Ended (transition to extended services) belongs to a supported-employment "
            "case; amend the IPE to supported employment first.",
        )
    if event.authorization_id and find_authorization(state, event.authorization_id) is None:
        return _unknown_authorization(event.authorization_id, "named by M4Ended")
    return None


def _unknown_authorization(authorization_id: str, what: str) -> Refusal:
    return Refusal(
        "authorization_unknown",
        f"Authorization {authorization_id} cannot be {what}: this case never issued it.",
    )


DECIDERS: dict[str, Callable[[ClockState, Any, PolicyTable], Refusal | None]] = {
    IPEAmended.TYPE: lambda *_: None,
    EmploymentStarted.TYPE: _employment_started,
    EmploymentEnded.TYPE: _employment_ended,
    EmploymentFollowUpCancelled.TYPE: _follow_up_cancelled,
    CaseClosed.TYPE: _closure,
    AuthorizationIssued.TYPE: _authorization_issued,
    AuthorizationPaid.TYPE: _authorization_paid,
    AuthorizationCancelled.TYPE: _authorization_cancelled,
    M4Ended.TYPE: _m4_ended,
}
