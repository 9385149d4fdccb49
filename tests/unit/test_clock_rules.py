"""The closure clock, rule by rule (contract section 3; policy: post-employment-services.txt).

Each test: given the recorded facts of a case, when the clock is evaluated on a
date or an event is proposed, then the status, the clock start and its
explanation, or the refusal, are what a counselor would see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given as hypothesis_given
from hypothesis import settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from app.domain.clock import (
    ClockState,
    ClockView,
    decide_clock,
    evaluate_clock,
    evolve_clock,
    initial_clock_state,
    ipe_categories,
    is_closed,
    status_on,
)
from app.domain.clock_decide import DECIDERS
from app.domain.clock_evolve import EVOLVERS, IGNORED_BY_CLOCK
from app.domain.facts import Fact, Refusal
from app.domain.policy import DEFAULT_POLICY, PolicyTable, policy_version
from app.events import EVENT_TYPES
from app.events.types import EventData
from tests import builders as b
from tests.builders import event, typed
from tests.given import fold, recorded

D = date.fromisoformat
SNAPSHOT = TypeAdapter(ClockState)


# --- builders -------------------------------------------------------------------------------


def opened(se: bool = False, categories: tuple[str, ...] = ("job_coaching",)) -> EventData:
    return typed(b.case_opened("2025-01-02", se=se, categories=categories))


def started(job_id: str, on: str, soc: str = "41-2011", **extra: Any) -> EventData:
    return typed(b.employment_started(job_id, on, soc=soc, hourly_wage="16.50", **extra))


def ended(job_id: str, on: str) -> EventData:
    return typed(b.employment_ended(job_id, on))


def issued(auth: str, end: str, category: str = "job_coaching", **extra: Any) -> EventData:
    return typed(
        b.authorization(auth, "2025-01-01", end, provider="P1", category=category, amount="900.00", **extra)
    )


def paid(auth: str, on: str, full: bool, amount: str = "300.00") -> EventData:
    return typed(b.paid(auth, on, amount, in_full=full))


def cancelled(auth: str, on: str) -> EventData:
    return typed(b.cancelled(auth, on))


def m4_ended(on: str, **extra: Any) -> EventData:
    return typed(b.m4_ended(on, **extra))


def cancel_ef(on: str) -> EventData:
    return typed(b.follow_up_cancelled(on, reason="needs retraining"))


def amended(on: str, added: tuple[str, ...] = (), **extra: Any) -> EventData:
    return typed(b.ipe_amended(on, added=added, **extra))


def closed(on: str, outcome: str = "successful") -> EventData:
    return typed(b.case_closed(on, outcome=outcome))


@dataclass
class Case:
    """Given: the recorded facts of one case and the clock state folded from them."""

    facts: list[Fact]
    policy: PolicyTable = DEFAULT_POLICY

    @property
    def state(self) -> ClockState:
        return fold(evolve_clock, initial_clock_state(), self.facts)

    def id(self, index: int) -> UUID:
        """The event id of the index-th given event (0 is CaseOpened)."""
        return self.facts[index].event_id

    def on(self, as_of: str) -> ClockView:
        return evaluate_clock(self.state, D(as_of), self.policy)

    def when(self, proposed: EventData) -> Refusal | None:
        return decide_clock(self.state, proposed, self.policy)

    def then(self, *more: EventData) -> Case:
        """The case after recording `more`, each of which the clock must accept."""
        case = self
        for e in more:
            refusal = case.when(e)
            assert refusal is None, refusal
            case = Case(case.facts + recorded(e, first_version=len(case.facts) + 1), self.policy)
        return case


def given(*events: EventData, policy: PolicyTable = DEFAULT_POLICY) -> Case:
    return Case([], policy).then(*events)


def employed() -> Case:
    """A non-SE case whose client started job J1 on 2025-01-06 (eligible on 2025-04-06)."""
    return given(opened(), started("J1", "2025-01-06"))


# --- 3.1 clock start, non-supported-employment case ------------------------------------------


def test_3_1_a_employment_outcome_date_starts_the_clock() -> None:
    case = employed()
    view = case.on("2025-02-01")
    assert view.status == "running"
    assert view.phase == "in_follow_up"
    assert (view.clock_start, view.clock_start_rule) == (D("2025-01-06"), "a_employment_outcome")
    assert view.clock_start_event_id == case.id(1)
    assert view.eligible_on == D("2025-04-06")
    assert view.days_remaining == 64
    assert view.explanation == (
        "Employment outcome: job J1 started on 2025-01-06: the clock starts from the "
        "employment outcome date.",
    )
    assert view.blocking == ("Eligible for closure on 2025-04-06 (64 days remain).",)


def test_3_1_b_end_date_of_authorization_not_paid_in_full_holds_the_clock_start() -> None:
    case = employed().then(issued("A17", "2025-03-31"))
    view = case.on("2025-03-01")
    assert view.status == "waiting"
    assert (view.clock_start, view.clock_start_rule) == (
        D("2025-03-31"),
        "b_authorization_not_paid_in_full",
    )
    assert view.clock_start_event_id == case.id(2)
    assert view.eligible_on == D("2025-06-29")
    assert view.explanation == (
        "Authorization A17 (job_coaching) is not paid in full: its end date 2025-03-31 holds "
        "the clock start.",
    )
    assert "eligible for closure on 2025-06-29 (120 days remain)" in view.blocking[0]


def test_3_1_partial_payments_do_not_change_the_end_date_rule() -> None:
    case = employed().then(
        issued("A17", "2025-03-31"),
        paid("A17", "2025-02-15", full=False),
        paid("A17", "2025-04-20", full=False),
    )
    view = case.on("2025-05-01")
    assert view.clock_start == D("2025-03-31")
    assert view.clock_start_rule == "b_authorization_not_paid_in_full"
    assert view.clock_start_event_id == case.id(2)


def test_3_1_paid_in_full_payment_date_sets_clock_start() -> None:
    case = employed().then(
        issued("A17", "2025-03-31"),
        paid("A17", "2025-03-01", full=False),
        paid("A17", "2025-04-15", full=True),
    )
    view = case.on("2025-05-01")
    assert (view.clock_start, view.clock_start_rule) == (
        D("2025-04-15"),
        "c_authorization_paid_in_full",
    )
    assert view.clock_start_event_id == case.id(4)
    assert view.eligible_on == D("2025-07-14")
    assert view.explanation[0] == (
        "Authorization A17 (job_coaching) was paid in full on 2025-04-15: that payment date "
        "holds the clock start."
    )


def test_3_1_paid_in_full_early_releases_the_end_date() -> None:
    """Paid in full before its end date: the payment date counts, not the end date."""
    not_paid = employed().then(issued("A17", "2025-03-31"))
    paid_early = not_paid.then(paid("A17", "2025-02-10", full=True))
    assert not_paid.on("2025-05-01").clock_start == D("2025-03-31")
    assert paid_early.on("2025-05-01").clock_start == D("2025-02-10")
    assert paid_early.on("2025-05-01").eligible_on == D("2025-05-11")


def test_3_1_latest_payment_flagged_paid_in_full_counts() -> None:
    case = employed().then(
        issued("A17", "2025-03-31"),
        paid("A17", "2025-04-01", full=True),
        paid("A17", "2025-04-09", full=True, amount="12.00"),
    )
    view = case.on("2025-05-01")
    assert view.clock_start == D("2025-04-09")
    assert view.clock_start_event_id == case.id(4)


def test_3_1_tie_on_the_same_date_goes_to_the_higher_stream_version() -> None:
    auth_after_job = given(opened(), started("J1", "2025-03-31"), issued("A1", "2025-03-31"))
    job_after_auth = given(opened(), issued("A1", "2025-03-31"), started("J1", "2025-03-31"))
    first = auth_after_job.on("2025-04-01")
    second = job_after_auth.on("2025-04-01")
    assert (first.clock_start_rule, first.clock_start_event_id) == (
        "b_authorization_not_paid_in_full",
        auth_after_job.id(2),
    )
    assert (second.clock_start_rule, second.clock_start_event_id) == (
        "a_employment_outcome",
        job_after_auth.id(2),
    )
    assert len(first.explanation) == 2  # both facts dated on the clock start hold it


# --- 3.2 supported employment ----------------------------------------------------------------


def supported() -> Case:
    return given(opened(se=True), started("J1", "2025-01-06"))


def test_3_2_supported_employment_waits_for_m4_ended() -> None:
    view = supported().on("2025-06-01")
    assert (view.status, view.phase) == ("awaiting_m4", "awaiting_m4")
    assert view.clock_start is None and view.eligible_on is None and view.days_remaining is None
    assert view.blocking == ("Supported employment: waiting for M4Ended (transition to extended services).",)


def test_3_2_m4_ended_starts_the_clock() -> None:
    case = supported().then(m4_ended("2025-05-01"))
    view = case.on("2025-06-01")
    assert view.status == "running"
    assert (view.clock_start, view.clock_start_rule) == (D("2025-05-01"), "m4_ended")
    assert view.clock_start_event_id == case.id(2)
    assert view.eligible_on == D("2025-07-30")


def test_3_2_later_payment_in_full_wins_over_m4() -> None:
    case = supported().then(
        issued("A2", "2025-04-30"), m4_ended("2025-05-01"), paid("A2", "2025-05-20", full=True)
    )
    view = case.on("2025-06-01")
    assert (view.clock_start, view.clock_start_rule) == (
        D("2025-05-20"),
        "c_authorization_paid_in_full",
    )
    assert view.clock_start_event_id == case.id(4)


def test_3_2_ipe_amended_to_supported_employment_waits_for_m4() -> None:
    case = employed().then(amended("2025-02-01", supported_employment=True))
    assert case.on("2025-06-01").status == "awaiting_m4"
    back = case.then(amended("2025-02-02", supported_employment=False))
    assert back.on("2025-06-01").status == "eligible"


def test_3_2_new_job_after_m4_restarts_the_clock_at_its_start_date() -> None:
    case = supported().then(m4_ended("2025-03-01"), ended("J1", "2025-04-01"), started("J2", "2025-04-14"))
    view = case.on("2025-05-01")
    assert (view.clock_start, view.clock_start_rule) == (D("2025-04-14"), "a_employment_outcome")


# --- 3.3 post-employment services, cancellations, successful placement -----------------------


def test_3_3_post_employment_service_restarts_the_clock_when_it_completes() -> None:
    case = employed()
    assert case.on("2025-05-01").status == "eligible"
    with_pes = case.then(issued("A5", "2025-06-30", post_employment=True))
    assert with_pes.on("2025-05-01").status == "waiting"
    assert with_pes.on("2025-05-01").eligible_on == D("2025-09-28")
    completed = with_pes.then(paid("A5", "2025-07-05", full=True))
    assert completed.on("2025-07-10").status == "running"
    assert completed.on("2025-07-10").eligible_on == D("2025-10-03")


def test_3_3_cancelled_authorization_without_payments_stops_counting() -> None:
    case = employed().then(issued("A17", "2025-06-30"), cancelled("A17", "2025-02-01"))
    view = case.on("2025-05-01")
    assert (view.status, view.clock_start_rule) == ("eligible", "a_employment_outcome")
    assert view.blocking == ()


def test_3_3_cancelled_authorization_with_payments_counts_at_its_latest_payment() -> None:
    case = employed().then(
        issued("A17", "2025-06-30"),
        paid("A17", "2025-02-10", full=False),
        paid("A17", "2025-03-05", full=False),
        cancelled("A17", "2025-03-10"),
    )
    view = case.on("2025-04-01")
    assert (view.clock_start, view.clock_start_rule) == (
        D("2025-03-05"),
        "c_authorization_paid_in_full",
    )
    assert view.clock_start_event_id == case.id(4)
    assert view.explanation[0] == (
        "Authorization A17 (job_coaching) was cancelled on 2025-03-10; its latest payment on "
        "2025-03-05 holds the clock start."
    )


def test_3_3_successful_placement_authorization_never_holds_the_clock() -> None:
    milestone = issued("A9", "2025-12-31", category="pba", pba_id="PBA1", milestone="successful_placement")
    case = employed().then(milestone)
    assert case.on("2025-04-06").status == "eligible"
    after_payment = case.then(paid("A9", "2025-04-20", full=True, amount="1500.00"))
    assert after_payment.on("2025-04-20").status == "eligible"
    assert after_payment.on("2025-04-20").clock_start == D("2025-01-06")


def test_3_3_other_pba_milestone_authorizations_do_count() -> None:
    hire = issued("A8", "2025-02-28", category="pba", pba_id="PBA1", milestone="job_hire")
    view = employed().then(hire).on("2025-03-01")
    assert view.clock_start == D("2025-02-28")


# --- 3.4 employment must continue ------------------------------------------------------------


def test_3_4_before_any_employment_the_case_is_not_employed() -> None:
    view = given(opened()).on("2025-03-01")
    assert (view.status, view.clock_start) == ("not_employed", None)
    assert view.blocking == ("Not employed: no employment outcome (EmploymentStarted) has been recorded.",)


def test_3_4_job_loss_means_not_employed() -> None:
    view = employed().then(ended("J1", "2025-02-01")).on("2025-05-01")
    assert (view.status, view.phase) == ("not_employed", "not_employed")
    assert view.clock_start is None and view.days_remaining is None
    assert view.blocking == ("Not employed: job J1 ended on 2025-02-01.",)


def test_3_4_new_job_restarts_the_clock_at_its_own_start_date() -> None:
    case = employed().then(ended("J1", "2025-02-01"), started("J2", "2025-03-03"))
    view = case.on("2025-04-10")
    assert (view.status, view.clock_start) == ("running", D("2025-03-03"))
    assert view.clock_start_event_id == case.id(3)


def test_3_4_overlapping_jobs_one_ending_keeps_the_client_employed() -> None:
    case = employed().then(started("J2", "2025-02-03"), ended("J1", "2025-03-01"))
    view = case.on("2025-03-10")
    assert (view.status, view.clock_start) == ("running", D("2025-02-03"))


def test_3_4_continuity_with_same_soc_keeps_the_earlier_outcome_date() -> None:
    case = employed().then(ended("J1", "2025-02-01"))
    follow_on = started("J2", "2025-02-04", continuous_with_job_id="J1")
    assert case.when(follow_on) is None
    view = case.then(follow_on).on("2025-04-06")
    assert (view.status, view.clock_start) == ("eligible", D("2025-01-06"))
    assert view.clock_start_event_id == case.id(1)


def test_3_4_refuses_continuity_soc_mismatch() -> None:
    case = employed().then(ended("J1", "2025-02-01"))
    refusal = case.when(started("J2", "2025-02-04", soc="35-2014", continuous_with_job_id="J1"))
    assert refusal is not None and refusal.rule == "continuity_soc_mismatch"
    assert "35-2014" in refusal.detail and "41-2011" in refusal.detail


def test_3_4_refuses_continuity_with_a_job_the_case_never_had() -> None:
    refusal = employed().when(started("J2", "2025-02-04", continuous_with_job_id="J7"))
    assert refusal is not None and refusal.rule == "continuity_job_unknown"
    assert "J7" in refusal.detail


def test_3_4_refuses_employment_ended_for_a_job_that_is_not_current() -> None:
    case = employed().then(ended("J1", "2025-02-01"))
    for job in ("J1", "J9"):
        refusal = case.when(ended(job, "2025-03-01"))
        assert refusal is not None and refusal.rule == "employment_not_current"


def test_3_4_refuses_employment_ended_before_the_job_started() -> None:
    refusal = employed().when(ended("J1", "2025-01-05"))
    assert refusal is not None and refusal.rule == "employment_end_before_start"


def test_3_4_refuses_starting_a_job_that_is_already_current() -> None:
    refusal = employed().when(started("J1", "2025-02-01"))
    assert refusal is not None and refusal.rule == "employment_already_current"


def test_3_4_rehire_of_an_ended_job_is_a_new_outcome() -> None:
    case = employed().then(ended("J1", "2025-02-01"), started("J1", "2025-06-02"))
    assert case.on("2025-06-10").clock_start == D("2025-06-02")


def test_3_4_cancel_ef_until_a_later_employment_started_reenters() -> None:
    case = employed().then(cancel_ef("2025-02-15"))
    view = case.on("2025-05-01")
    assert (view.status, view.clock_start, view.eligible_on) == ("follow_up_cancelled", None, None)
    assert view.blocking == (
        "Employment Follow-up was cancelled on 2025-02-15 (Cancel EF): a new EmploymentStarted re-enters it.",
    )
    reentered = case.then(started("J2", "2025-04-01"))
    view = reentered.on("2025-05-01")
    assert (view.status, view.clock_start) == ("running", D("2025-04-01"))


def test_3_4_refuses_continuity_after_cancel_ef() -> None:
    case = employed().then(cancel_ef("2025-02-15"))
    refusal = case.when(started("J2", "2025-04-01", continuous_with_job_id="J1"))
    assert refusal is not None and refusal.rule == "continuity_after_cancel_ef"


def test_3_4_refuses_cancel_ef_when_not_in_employment_follow_up() -> None:
    never_employed = given(opened()).when(cancel_ef("2025-02-15"))
    twice = employed().then(cancel_ef("2025-02-15")).when(cancel_ef("2025-02-16"))
    for refusal in (never_employed, twice):
        assert refusal is not None and refusal.rule == "cancel_ef_not_in_employment_follow_up"


def test_3_4_cancel_ef_is_allowed_after_a_job_loss() -> None:
    """Regain in another SOC code is not a post-employment service: Cancel EF must be possible."""
    assert employed().then(ended("J1", "2025-02-01")).when(cancel_ef("2025-02-15")) is None


# --- 3.5 eligible_on and status --------------------------------------------------------------


def test_3_5_waiting_running_eligible_by_evaluation_date() -> None:
    case = employed().then(issued("A17", "2025-03-31"))
    assert case.on("2025-03-30").status == "waiting"
    assert case.on("2025-03-31").status == "running"
    assert (case.on("2025-06-28").status, case.on("2025-06-28").days_remaining) == ("running", 1)
    eligible = case.on("2025-06-29")
    assert (eligible.status, eligible.days_remaining, eligible.blocking) == ("eligible", 0, ())
    assert case.on("2025-09-01").days_remaining == 0


def longer_wait_from_march() -> PolicyTable:
    rates = {
        "placement_plan_signed": Decimal("1000.00"),
        "job_hire": Decimal("1300.00"),
        "successful_placement": Decimal("1500.00"),
    }
    return PolicyTable(
        (
            policy_version(D("1900-01-01"), closure_wait_days=90, rates=rates, pba_cap=Decimal(3800)),
            policy_version(D("2025-03-01"), closure_wait_days=120, rates=rates, pba_cap=Decimal(3800)),
        )
    )


def test_3_5_policy_wait_in_force_on_the_clock_start_sets_eligible_on() -> None:
    policy = longer_wait_from_march()
    before = given(opened(), started("J1", "2025-02-10"), policy=policy)
    after = given(opened(), started("J1", "2025-03-31"), policy=policy)
    assert before.on("2025-04-01").eligible_on == D("2025-05-11")  # 90 days, even evaluated later
    assert after.on("2025-04-01").eligible_on == D("2025-07-29")  # 120 days
    assert after.on("2025-06-29").status == "running"


def test_3_5_status_on_agrees_with_the_phase_for_cases_without_a_clock() -> None:
    for phase in ("not_employed", "awaiting_m4", "follow_up_cancelled", "closed"):
        assert status_on(phase, None, None, D("2025-01-01")) == phase
    assert status_on("in_follow_up", D("2025-02-01"), D("2025-05-02"), D("2025-01-31")) == "waiting"
    assert status_on("in_follow_up", D("2025-02-01"), D("2025-05-02"), D("2025-05-02")) == "eligible"


# --- 3.6 closure -----------------------------------------------------------------------------


def test_3_6_successful_closure_refused_the_day_before_eligible_on() -> None:
    refusal = employed().when(closed("2025-04-05"))
    assert refusal is not None and refusal.rule == "not_eligible_for_closure"
    assert refusal.code == "rule_violation"
    assert "2025-04-06" in refusal.detail


def test_3_6_successful_closure_accepted_on_eligible_on() -> None:
    case = employed().then(closed("2025-04-06"))
    view = case.on("2025-05-01")
    assert (view.status, view.phase, view.days_remaining) == ("closed", "closed", None)
    assert view.clock_start == D("2025-01-06")  # a closed case keeps showing its clock
    assert is_closed(case.state)


def test_3_6_successful_closure_refused_without_a_clock_says_why() -> None:
    refusal = employed().then(ended("J1", "2025-02-01")).when(closed("2025-06-01"))
    assert refusal is not None and refusal.rule == "not_eligible_for_closure"
    assert "Not employed: job J1 ended on 2025-02-01." in refusal.detail


def test_3_6_unsuccessful_closure_is_allowed_while_open() -> None:
    case = employed().then(ended("J1", "2025-02-01"))
    assert case.when(closed("2025-03-01", outcome="unsuccessful")) is None


def closed_case() -> Case:
    return employed().then(issued("A1", "2025-02-28"), closed("2025-06-01"))


@pytest.mark.parametrize(
    "proposed",
    [
        issued("A2", "2025-07-31", post_employment=True),
        started("J2", "2025-06-10"),
        ended("J1", "2025-06-10"),
        amended("2025-06-10", ("transport",)),
        cancel_ef("2025-06-10"),
        m4_ended("2025-06-10"),
        closed("2025-06-10", outcome="unsuccessful"),
    ],
    ids=lambda e: e.TYPE,
)
def test_3_6_after_closure_no_exceptions_a_new_case_must_be_opened(proposed: EventData) -> None:
    refusal = closed_case().when(proposed)
    assert refusal is not None and refusal.rule == "case_closed"
    assert "2025-06-01" in refusal.detail
    assert "there are no exceptions" in refusal.detail
    assert "a new case must be opened" in refusal.detail


def test_3_6_payment_of_an_earlier_authorization_is_accepted_after_closure() -> None:
    case = closed_case()
    after = case.then(paid("A1", "2025-06-15", full=True))
    assert after.on("2025-06-20").status == "closed"
    assert case.when(cancelled("A1", "2025-06-15")) is None
    assert case.when(paid("A7", "2025-06-15", full=True)) is not None  # still checked


# --- 3.7 post-employment service category on the IPE -----------------------------------------


def test_3_7_refuses_pes_category_not_on_ipe_until_amended() -> None:
    proposed = issued("A5", "2025-06-30", category="transport", post_employment=True)
    refusal = employed().when(proposed)
    assert refusal is not None and refusal.rule == "pes_category_not_on_ipe"
    assert "IPEAmended adding transport" in refusal.detail
    amended_case = employed().then(amended("2025-05-01", ("transport",)))
    assert ipe_categories(amended_case.state) == {"job_coaching", "transport"}
    assert amended_case.when(proposed) is None


def test_3_7_an_authorization_not_flagged_post_employment_needs_no_amendment() -> None:
    assert employed().when(issued("A5", "2025-06-30", category="transport")) is None


# --- other refusals --------------------------------------------------------------------------


def test_refuses_payment_or_cancellation_of_an_unknown_authorization() -> None:
    for proposed in (paid("A404", "2025-03-01", full=True), cancelled("A404", "2025-03-01")):
        refusal = employed().when(proposed)
        assert refusal is not None and refusal.rule == "authorization_unknown"
        assert "A404" in refusal.detail


def test_refuses_m4_ended_naming_an_unknown_authorization() -> None:
    refusal = supported().when(m4_ended("2025-05-01", authorization_id="A404"))
    assert refusal is not None and refusal.rule == "authorization_unknown"


def test_refuses_m4_ended_on_a_case_that_is_not_supported_employment() -> None:
    refusal = employed().when(m4_ended("2025-05-01"))
    assert refusal is not None and refusal.rule == "m4_ended_not_supported_employment"


def test_refuses_an_authorization_id_issued_twice() -> None:
    refusal = employed().then(issued("A1", "2025-03-31")).when(issued("A1", "2025-04-30"))
    assert refusal is not None and refusal.rule == "authorization_already_issued"


def test_refuses_cancelling_a_cancelled_authorization_again() -> None:
    case = employed().then(issued("A1", "2025-03-31"), cancelled("A1", "2025-02-01"))
    again = case.when(cancelled("A1", "2025-02-10"))
    assert again is not None and again.rule == "authorization_already_cancelled"


def test_3_3_a_late_invoice_of_a_cancelled_authorization_is_paid_and_counts_under_c() -> None:
    """Contract 3.3: payments come after the service they pay for, cancelled or not."""
    case = employed().then(issued("A1", "2025-03-31"), cancelled("A1", "2025-02-01"))
    late = case.then(paid("A1", "2025-02-10", full=False), paid("A1", "2025-02-20", full=True))
    view = late.on("2025-03-01")
    assert (view.clock_start, view.clock_start_rule) == (D("2025-02-20"), "c_authorization_paid_in_full")
    assert view.clock_start_event_id == late.id(5)


def test_still_refused_a_payment_on_an_unknown_authorization_or_before_its_start() -> None:
    case = employed().then(issued("A1", "2025-03-31"), cancelled("A1", "2025-02-01"))
    unknown = case.when(paid("A9", "2025-02-10", full=True))
    early = case.when(paid("A1", "2024-12-31", full=True))
    assert unknown is not None and unknown.rule == "authorization_unknown"
    assert early is not None and early.rule == "payment_before_authorization_start"
    assert "before its service starts on 2025-01-01" in early.detail


def test_refuses_cancelling_an_authorization_paid_in_full() -> None:
    case = employed().then(issued("A1", "2025-03-31"), paid("A1", "2025-03-01", full=True))
    refusal = case.when(cancelled("A1", "2025-03-10"))
    assert refusal is not None and refusal.rule == "authorization_paid_in_full"


def test_whether_the_case_is_open_is_the_cases_rule_not_the_clocks() -> None:
    """case_not_found and case_already_opened are checked once, by `case.decide_case`
    (tests/unit/test_case_rules.py); the clock is asked only about an open case."""
    assert employed().when(opened()) is None


def test_pba_events_and_retractions_are_not_the_clocks_concern() -> None:
    case = employed()
    pba = event("PBAOpened", pba_id="PBA1", provider_id="P1", opened_on="2025-01-10")
    retraction = event("EventRetracted", retracted_event_id=str(case.id(1)), reason="typo")
    assert case.when(pba) is None and closed_case().when(pba) is None
    assert case.when(retraction) is None
    assert case.then(pba, retraction).state == case.state


def test_every_event_type_is_folded_and_decided_or_deliberately_ignored() -> None:
    for name in EVENT_TYPES:
        assert (name in EVOLVERS) != (name in IGNORED_BY_CLOCK), name
        assert name in DECIDERS or name in IGNORED_BY_CLOCK or name == "CaseOpened", name


# --- snapshots and properties ----------------------------------------------------------------


def test_snapshot_round_trip_keeps_the_state() -> None:
    case = supported().then(
        amended("2025-01-20", ("transport",)),
        issued("A1", "2025-03-31", category="transport", post_employment=True),
        paid("A1", "2025-02-01", full=False),
        issued("A2", "2025-03-31"),
        cancelled("A2", "2025-02-02"),
        m4_ended("2025-04-01"),
        started("J2", "2025-04-02", continuous_with_job_id="J1", temporary=True),
        ended("J1", "2025-04-03"),
        closed("2025-07-15"),
    )
    state = case.state
    restored = SNAPSHOT.validate_json(SNAPSHOT.dump_json(state))
    assert restored == state
    assert SNAPSHOT.dump_json(restored) == SNAPSHOT.dump_json(state)
    assert evaluate_clock(restored, D("2025-07-20"), DEFAULT_POLICY) == case.on("2025-07-20")


START = date(2025, 1, 1)
days = st.integers(0, 300).map(lambda n: (START + timedelta(days=n)).isoformat())
jobs = st.sampled_from(["J1", "J2", "J3"])
auths = st.sampled_from(["A1", "A2", "A3", "A4"])
categories = st.sampled_from(["job_coaching", "transport", "tools"])
socs = st.sampled_from(["41-2011", "35-2014"])


@st.composite
def authorization_issued(draw: st.DrawFn) -> EventData:
    start = START + timedelta(days=draw(st.integers(0, 200)))
    end = start + timedelta(days=draw(st.integers(0, 120)))
    milestone = draw(st.sampled_from([None, "job_hire", "successful_placement"]))
    extra = {"pba_id": "PBA1", "milestone": milestone} if milestone else {}
    return event(
        "AuthorizationIssued",
        authorization_id=draw(auths),
        provider_id="P1",
        service_category=draw(categories),
        start_date=start.isoformat(),
        end_date=end.isoformat(),
        amount="100.00",
        post_employment=draw(st.booleans()),
        **extra,
    )


@st.composite
def employment_started(draw: st.DrawFn) -> EventData:
    job = draw(jobs)
    continues = draw(st.sampled_from([None, "J1", "J2", "J3"]))
    extra = {"continuous_with_job_id": continues} if continues and continues != job else {}
    return started(job, draw(days), soc=draw(socs), **extra)


any_event = st.one_of(
    employment_started(),
    st.builds(ended, jobs, days),
    authorization_issued(),
    st.builds(paid, auths, days, st.booleans()),
    st.builds(cancelled, auths, days),
    st.builds(m4_ended, days),
    st.builds(cancel_ef, days),
    st.builds(lambda on, cats: amended(on, tuple(cats)), days, st.lists(categories, max_size=2)),
    st.builds(lambda on, se: amended(on, supported_employment=se), days, st.booleans()),
    st.builds(closed, days, st.sampled_from(["successful", "unsuccessful"])),
)


def accepted_facts(se: bool, proposals: list[EventData]) -> list[Fact]:
    """The valid sequence: each proposal recorded only if the clock accepts it."""
    state, accepted = initial_clock_state(), []
    for proposal in [opened(se=se), *proposals]:
        if decide_clock(state, proposal, DEFAULT_POLICY) is None:
            accepted.append(proposal)
            (fact,) = recorded(proposal, first_version=len(accepted))
            state = evolve_clock(state, fact)
    ids = [UUID(int=n) for n in range(1, len(accepted) + 1)]
    return recorded(*accepted, ids=ids)


@settings(max_examples=150, deadline=None)
@hypothesis_given(st.booleans(), st.lists(any_event, max_size=20), days)
def test_property_valid_sequences_fold_deterministically_and_round_trip(
    se: bool, proposals: list[EventData], as_of_text: str
) -> None:
    facts = accepted_facts(se, proposals)
    as_of = D(as_of_text)
    state = fold(evolve_clock, initial_clock_state(), facts)
    assert fold(evolve_clock, initial_clock_state(), facts) == state
    view = evaluate_clock(state, as_of, DEFAULT_POLICY)
    assert evaluate_clock(state, as_of, DEFAULT_POLICY) == view
    restored = SNAPSHOT.validate_json(SNAPSHOT.dump_json(state))
    assert restored == state
    assert evaluate_clock(restored, as_of, DEFAULT_POLICY) == view
    assert view.status == status_on(view.phase, view.clock_start, view.eligible_on, as_of)
    if view.clock_start is not None:
        assert view.eligible_on == view.clock_start + timedelta(days=90)
        assert view.clock_start_event_id in {f.event_id for f in facts}
    if view.status in ("waiting", "running"):
        assert view.blocking[-1].endswith(f"({view.days_remaining} days remain).")
    assert (view.blocking == ()) == (view.status in ("eligible", "closed"))
    if view.clock_start is not None:
        assert view.explanation, "every clock explains its start (3.8)"


@settings(max_examples=100, deadline=None)
@hypothesis_given(st.lists(any_event, max_size=20))
def test_property_evolve_is_total_over_unchecked_sequences(proposals: list[EventData]) -> None:
    """A stream re-folded without retracted events may hold facts decide would refuse now."""
    facts = recorded(opened(), *proposals)
    state = fold(evolve_clock, initial_clock_state(), facts)
    assert SNAPSHOT.validate_json(SNAPSHOT.dump_json(state)) == state
    view = evaluate_clock(state, D("2025-06-01"), DEFAULT_POLICY)
    assert view.status == status_on(view.phase, view.clock_start, view.eligible_on, D("2025-06-01"))
