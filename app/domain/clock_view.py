"""evaluate_clock: the 90-day timeline for case closure on a date (contract 3.1-3.5, 3.8).

Policy "90-Day Timeline": the clock starts at the maximum of
  Non SE: 1) the employment outcome, 2) the end date of any authorization not
  paid in full, 3) the payment date of authorizations paid in full;
  SE: 1) the end of M4 (VR and the provider agree the client has completed the
  transition to extended services), 2) and 3) as above.
The case is eligible for closure once the client has been employed the wait
(90 days by default, `PolicyTable.closure_wait_days` in force on the clock
start) with no post-employment service outstanding.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from uuid import UUID

from app.domain.clock_state import (
    Authorization,
    ClockStartCandidate,
    ClockState,
    clock_phase,
    find_job,
    last_ended_job,
    open_phase,
)
from app.domain.policy import PolicyTable

RULE_EMPLOYMENT_OUTCOME = "a_employment_outcome"
RULE_NOT_PAID_IN_FULL = "b_authorization_not_paid_in_full"
RULE_PAID_IN_FULL = "c_authorization_paid_in_full"
RULE_M4_ENDED = "m4_ended"


@dataclass(frozen=True, slots=True)
class ClockView:
    status: str
    phase: str
    clock_start: date | None
    clock_start_rule: str | None
    clock_start_event_id: UUID | None
    eligible_on: date | None
    days_remaining: int | None
    blocking: tuple[str, ...]


def status_on(phase: str, clock_start: date | None, eligible_on: date | None, as_of: date) -> str:
    """The status from the date-independent phase and clock dates; SQL-backed worklists call
    this too, so a worklist row and GET closure-clock never disagree."""
    if phase != "in_follow_up":
        return phase
    if clock_start is None or eligible_on is None:
        raise ValueError("a case in Employment Follow-up always has a clock start")
    if clock_start > as_of:
        return "waiting"
    return "eligible" if as_of >= eligible_on else "running"


def evaluate_clock(
    state: ClockState, as_of: date, policy: PolicyTable, *, as_if_open: bool = False
) -> ClockView:
    """The closure clock as of `as_of`. A closed case keeps showing the clock it had.

    `as_if_open` judges a closed case by the clock it had when it closed: a
    provider's successful placement reached before or after a successful
    closure is judged against that clock, not against "closed".
    """
    phase = open_phase(state) if as_if_open else clock_phase(state)
    start = clock_start(state) if open_phase(state) == "in_follow_up" else None
    eligible_on = None if start is None else eligible_on_for(start.on, policy)
    status = status_on(phase, start and start.on, eligible_on, as_of)
    days = None
    if eligible_on is not None and status != "closed":
        days = max((eligible_on - as_of).days, 0)
    return ClockView(
        status=status,
        phase=phase,
        clock_start=start and start.on,
        clock_start_rule=start and start.rule,
        clock_start_event_id=start and start.event_id,
        eligible_on=eligible_on,
        days_remaining=days,
        blocking=_blocking(state, status, start, eligible_on, as_of),
    )


def clock_dates(state: ClockState, policy: PolicyTable) -> tuple[str, date | None, date | None]:
    """(phase, clock start, eligible_on): what the worklist stores, without the explanation."""
    start = clock_start(state) if open_phase(state) == "in_follow_up" else None
    return clock_phase(state), start and start.on, start and eligible_on_for(start.on, policy)


def eligible_on_for(start: date, policy: PolicyTable) -> date:
    """Clock start plus the wait of the policy version in force on the clock start."""
    return start + timedelta(days=policy.closure_wait_days(start))


def clock_start(state: ClockState) -> ClockStartCandidate | None:
    """The latest candidate; on the same date the fact with the higher stream version wins.

    After closure the clock is frozen: a payment recorded later (still accepted,
    3.6) does not move the clock the case was closed on.
    """
    if state.closed is not None:
        return state.closed.clock_start
    candidates = clock_start_candidates(state)
    return max(candidates, key=lambda c: (c.on, c.version), default=None)


def clock_start_candidates(state: ClockState) -> list[ClockStartCandidate]:
    """Every date that bears on the clock start under 3.1-3.3.

    Policy text wins over contract 3.2 here: for a supported-employment case the
    contract lists only M4, (b) and (c), but 3.4 and the policy ("A new job
    restarts the clock") also apply to SE, so the outcome date is a candidate too.
    It only matters for a job started after M4 ended; the usual job started
    before M4 ends never wins.
    """
    candidates = [c for a in state.authorizations if (c := _authorization_candidate(a))]
    outcome = _outcome_candidate(state)
    if outcome is not None:
        candidates.append(outcome)
    if state.supported_employment and state.m4_ended is not None:
        m4 = state.m4_ended
        holds = (
            f"Supported employment: M4 ended on {m4.on} (transition to extended services): "
            "the clock starts from that date."
        )
        candidates.append(ClockStartCandidate(m4.on, m4.version, RULE_M4_ENDED, m4.event_id, holds))
    return candidates


def _outcome_candidate(state: ClockState) -> ClockStartCandidate | None:
    outcome = state.outcome
    if outcome is None:
        return None
    job = find_job(state, state.outcome_job_id or "")
    job_id = job.job_id if job else state.outcome_job_id
    holds = (
        f"Employment outcome: job {job_id} started on {outcome.on}: "
        "the clock starts from the employment outcome date."
    )
    return ClockStartCandidate(
        outcome.on, outcome.version, RULE_EMPLOYMENT_OUTCOME, outcome.event_id, holds
    )


def _authorization_candidate(a: Authorization) -> ClockStartCandidate | None:
    """Rule (b) or (c) for one authorization, or None when it cannot hold the clock (3.3)."""
    name = f"Authorization {a.authorization_id} ({a.service_category})"
    if a.successful_placement:
        return None  # the successful placement payment follows the wait by definition
    if a.cancelled is not None:
        paid = a.last_payment
        if paid is None:
            return None
        holds = (
            f"{name} was cancelled on {a.cancelled.on}; its latest payment on {paid.on} "
            "holds the clock start."
        )
        return ClockStartCandidate(paid.on, paid.version, RULE_PAID_IN_FULL, paid.event_id, holds)
    if a.paid_in_full is not None:
        paid = a.paid_in_full
        holds = f"{name} was paid in full on {paid.on}: that payment date holds the clock start."
        return ClockStartCandidate(paid.on, paid.version, RULE_PAID_IN_FULL, paid.event_id, holds)
    issued = a.issued
    holds = f"{name} is not paid in full: its end date {a.end_date} holds the clock start."
    return ClockStartCandidate(
        issued.on, issued.version, RULE_NOT_PAID_IN_FULL, issued.event_id, holds
    )


def _blocking(
    state: ClockState,
    status: str,
    start: ClockStartCandidate | None,
    eligible_on: date | None,
    as_of: date,
) -> tuple[str, ...]:
    """Only what holds the clock start or blocks eligibility; nothing once eligible."""
    if status in ("waiting", "running") and start and eligible_on:
        holding = [c.holds for c in clock_start_candidates(state) if c.on == start.on]
        return (*holding, _time_left(status, start.on, eligible_on, as_of))
    if status == "eligible":
        return ()
    return (_no_clock_reason(state),)


def _time_left(status: str, start: date, eligible_on: date, as_of: date) -> str:
    days = (eligible_on - as_of).days
    if status == "waiting":
        return (
            f"The clock starts on {start}, after {as_of}: eligible for closure on "
            f"{eligible_on} ({days} days remain)."
        )
    return f"Eligible for closure on {eligible_on} ({days} days remain)."


def _no_clock_reason(state: ClockState) -> str:
    """Why there is no running clock: closed, Cancel EF, no employment, or SE before M4."""
    if state.closed is not None:
        return (
            f"Case closed on {state.closed.on} ({state.closed.outcome}): no post-employment "
            "service or new employment can be recorded; a new case must be opened."
        )
    phase = open_phase(state)
    if phase == "follow_up_cancelled" and state.follow_up_cancelled is not None:
        return (
            f"Employment Follow-up was cancelled on {state.follow_up_cancelled.on} (Cancel EF): "
            "a new EmploymentStarted re-enters it."
        )
    if phase == "awaiting_m4":
        return "Supported employment: waiting for M4Ended (transition to extended services)."
    ended = last_ended_job(state)
    if state.outcome is None or ended is None or ended.ended is None:
        return "Not employed: no employment outcome (EmploymentStarted) has been recorded."
    return f"Not employed: job {ended.job_id} ended on {ended.ended.on}."
