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
    Dated,
    find_job,
    last_ended_job,
    open_phase,
)
from app.domain.frozen import quick_init
from app.domain.policy import PolicyTable
from app.domain.policy_history import eligible_on_moves

RULE_EMPLOYMENT_OUTCOME = "a_employment_outcome"
RULE_NOT_PAID_IN_FULL = "b_authorization_not_paid_in_full"
RULE_PAID_IN_FULL = "c_authorization_paid_in_full"
RULE_M4_ENDED = "m4_ended"


@quick_init
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
    explanation: tuple[str, ...] = ()


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


@quick_init
@dataclass(frozen=True, slots=True)
class ClockFacts:
    """What the closure clock says that does not depend on the evaluation date.

    The closure-clock read model stores exactly this; `clock_on` turns it into
    the view for any date, so the stored row and a fold of the events answer
    alike. `holds` (in Employment Follow-up) says what holds the clock start;
    `reason` (any other phase) says why there is no running clock. `latest_on` is
    the latest business date of the facts folded: the stored row answers for any
    `as_of` on or after it, an earlier `as_of` needs a fold of the facts dated up
    to it (None: unknown, always fold).
    """

    phase: str
    clock_start: date | None
    clock_start_rule: str | None
    clock_start_event_id: UUID | None
    eligible_on: date | None
    holds: tuple[str, ...]
    reason: str | None
    latest_on: date | None = None

    def answers_for(self, as_of: date) -> bool:
        """Whether these facts are the clock as the case stood on `as_of` (business time)."""
        return self.latest_on is not None and as_of >= self.latest_on


def clock_facts(state: ClockState, policy: PolicyTable, *, as_if_open: bool = False) -> ClockFacts:
    """The date-independent part of `evaluate_clock` (see ClockFacts)."""
    open_ = open_phase(state)
    phase = open_ if as_if_open or state.closed is None else "closed"
    start = clock_start(state) if open_ == "in_follow_up" else None
    if start is None:
        return ClockFacts(phase, None, None, None, None, (), _no_clock_reason(state), state.latest_on)
    in_follow_up = phase == "in_follow_up"
    return ClockFacts(
        phase=phase,
        clock_start=start.on,
        clock_start_rule=start.rule,
        clock_start_event_id=start.event_id,
        eligible_on=eligible_on_for(start.on, policy),
        holds=(
            *(_holding(state, start.on) if in_follow_up else _closed_on_clock(state)),
            # An adoption that moved this clock's eligible date says so (docs/policy.md).
            *eligible_on_moves(start.on, policy),
        ),
        reason=None if in_follow_up else _no_clock_reason(state),
        latest_on=state.latest_on,
    )


def clock_on(facts: ClockFacts, as_of: date) -> ClockView:
    """The clock on `as_of` (for facts that are the case as it stood then, see
    `ClockFacts.answers_for`): status, days remaining, what still blocks eligibility
    (`blocking`: the time left, or why there is no clock; nothing once eligible or
    closed) and what explains the clock (`explanation`: the facts that hold its start,
    or why there is none)."""
    start, eligible_on = facts.clock_start, facts.eligible_on
    status = status_on(facts.phase, start, eligible_on, as_of)
    days = None
    if eligible_on is not None and status != "closed":
        days = max((eligible_on - as_of).days, 0)
    explanation = (*facts.holds, facts.reason) if facts.reason else facts.holds
    if status in ("waiting", "running") and start and eligible_on:
        blocking: tuple[str, ...] = (_time_left(status, start, eligible_on, as_of),)
    elif status in ("eligible", "closed"):
        blocking = ()
    else:
        blocking = (facts.reason or "",)
    return ClockView(
        status=status,
        phase=facts.phase,
        clock_start=start,
        clock_start_rule=facts.clock_start_rule,
        clock_start_event_id=facts.clock_start_event_id,
        eligible_on=eligible_on,
        days_remaining=days,
        blocking=blocking,
        explanation=explanation,
    )


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
    latest, rule, authorization = _latest(state)
    if latest is None:
        return None
    if authorization is not None:
        return _authorization_candidate(authorization)
    if rule == RULE_M4_ENDED:
        return _m4_candidate(latest)
    return _outcome_candidate(state)


def _latest(state: ClockState) -> tuple[Dated | None, str | None, Authorization | None]:
    """The candidate `clock_start` picks, as (date, rule, its authorization if any), found
    through the state's rule (b) and (c) indexes: O(authorizations not yet paid in full),
    not O(every authorization). The same maximum as over `clock_start_candidates`: stream
    versions are unique, so two candidates never tie on (date, version)."""
    latest: Dated | None = None
    rule: str | None = None
    holder: Authorization | None = None
    authorizations = state.authorizations
    if state.rule_c_authorization is not None:
        holder = authorizations[state.rule_c_authorization]
        latest, rule = rule_c_date(holder), RULE_PAID_IN_FULL
    for authorization_id in state.rule_b_authorizations:
        a = authorizations[authorization_id]
        issued = a.issued
        if latest is None or (issued.on, issued.version) > (latest.on, latest.version):
            latest, rule, holder = issued, RULE_NOT_PAID_IN_FULL, a
    outcome = state.outcome
    if outcome is not None and (
        latest is None or (outcome.on, outcome.version) > (latest.on, latest.version)
    ):
        latest, rule, holder = outcome, RULE_EMPLOYMENT_OUTCOME, None
    m4 = state.m4_ended
    if (
        state.supported_employment
        and m4 is not None
        and (latest is None or (m4.on, m4.version) > (latest.on, latest.version))
    ):
        latest, rule, holder = m4, RULE_M4_ENDED, None
    return latest, rule, holder


def holds_by_end_date(a: Authorization) -> bool:
    """Rule (b): an authorization not paid in full holds the clock start by its end date;
    a cancelled one no longer does, nor does a successful placement (3.3)."""
    return a.paid_in_full is None and a.cancelled is None and not a.successful_placement


def rule_c_date(a: Authorization) -> Dated | None:
    """Rule (c): the payment of a paid-in-full or cancelled authorization that holds the
    clock start (the latest paid-in-full payment; a cancelled one's latest payment), or
    None. It only moves later as payments are recorded."""
    if a.successful_placement:
        return None
    if a.cancelled is not None:
        return a.last_payment
    return a.paid_in_full


def clock_start_candidates(state: ClockState) -> list[ClockStartCandidate]:
    """Every date that bears on the clock start under 3.1-3.3.

    Policy text wins over contract 3.2 here: for a supported-employment case the
    contract lists only M4, (b) and (c), but 3.4 and the policy ("A new job
    restarts the clock") also apply to SE, so the outcome date is a candidate too.
    It only matters for a job started after M4 ended; the usual job started
    before M4 ends never wins.
    """
    candidates = [c for a in _in_issue_order(state) if (c := _authorization_candidate(a))]
    outcome = _outcome_candidate(state)
    if outcome is not None:
        candidates.append(outcome)
    if state.supported_employment and state.m4_ended is not None:
        candidates.append(_m4_candidate(state.m4_ended))
    return candidates


def _m4_candidate(m4: Dated) -> ClockStartCandidate:
    holds = (
        f"Supported employment: M4 ended on {m4.on} (transition to extended services): "
        "the clock starts from that date."
    )
    return ClockStartCandidate(m4.on, m4.version, RULE_M4_ENDED, m4.event_id, holds)


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
    return ClockStartCandidate(outcome.on, outcome.version, RULE_EMPLOYMENT_OUTCOME, outcome.event_id, holds)


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
    return ClockStartCandidate(issued.on, issued.version, RULE_NOT_PAID_IN_FULL, issued.event_id, holds)


def _in_issue_order(state: ClockState) -> list[Authorization]:
    """The authorizations in the order they were issued. Not the dict's own order: a
    snapshot read back from PostgreSQL's jsonb has its keys in jsonb's order."""
    return sorted(state.authorizations.values(), key=lambda a: a.issued.version)


def _holding(state: ClockState, on: date) -> list[str]:
    """What each of `clock_start_candidates` dated `on` says, in the same order; only
    those candidates are put in words."""
    dated_on: list[Authorization] = []
    for a in state.authorizations.values():
        dated = a.issued if holds_by_end_date(a) else rule_c_date(a)
        if dated is not None and dated.on == on:
            dated_on.append(a)
    dated_on.sort(key=lambda a: a.issued.version)  # issue order, as `_in_issue_order`
    holding = [c.holds for a in dated_on if (c := _authorization_candidate(a))]
    if state.outcome is not None and state.outcome.on == on and (c := _outcome_candidate(state)):
        holding.append(c.holds)
    m4 = state.m4_ended
    if state.supported_employment and m4 is not None and m4.on == on:
        holding.append(_m4_candidate(m4).holds)
    return holding


def _closed_on_clock(state: ClockState) -> tuple[str, ...]:
    """A closed case's explanation keeps what held the clock start it was closed on."""
    closed = state.closed
    if closed is None or closed.clock_start is None:
        return ()
    return (closed.clock_start.holds,)


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
