"""Business time: the case as it stood on a date (issue 11 items 1, 3, 4, 5, 9).

Each test: given the recorded facts of a case (in the order they were recorded, with
business dates that need not follow that order), when the case is read "as of" a date
or an event is proposed, then the answer is the one the policy gives for the facts in
effect on that date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from hypothesis import given as hypothesis_given
from hypothesis import settings
from hypothesis import strategies as st

from app.domain.business_time import (
    BUSINESS_DATE_FIELDS,
    business_date,
    facts_as_of,
    latest_business_date,
)
from app.domain.case import (
    SNAPSHOT,
    CaseState,
    clock_view,
    decide_case,
    evolve_case,
    initial_case_state,
    replay,
    replay_as_of,
)
from app.domain.clock import ClockView, clock_facts, clock_on, evolve_clock, initial_clock_state
from app.domain.facts import Fact, Refusal
from app.domain.pes_checklist import PesRequest, evaluate_post_employment_service
from app.domain.policy import DEFAULT_POLICY
from app.events import EVENT_TYPES
from app.events.types import EventData
from tests.builders import event
from tests.given import fold, recorded
from tests.unit import test_clock_rules as clock_tests
from tests.unit import test_ledger_rules as ledger_tests

D = date.fromisoformat


# --- given / when / then ------------------------------------------------------------------


@dataclass
class Case:
    """Given: a case's recorded facts; `when` proposes an event, `on` reads the clock."""

    facts: list[Fact] = field(default_factory=list)

    @property
    def state(self) -> CaseState:
        return replay(self.facts)

    def when(self, proposed: EventData) -> Refusal | None:
        return decide_case(self.state, proposed, DEFAULT_POLICY)

    def then(self, *more: EventData) -> Case:
        case = self
        for e in more:
            refusal = case.when(e)
            assert refusal is None, refusal
            case = Case(case.facts + recorded(e, first_version=len(case.facts) + 1))
        return case

    def on(self, as_of: str) -> ClockView:
        return clock_view(self.state, D(as_of), DEFAULT_POLICY)


def employed_2024(*, categories: tuple[str, ...] = ("job_coaching",)) -> Case:
    """Opened 2024-01-02; job J1 from 2024-03-01 (eligible for closure on 2024-05-30)."""
    opened = event(
        "CaseOpened",
        opened_on="2024-01-02",
        supported_employment=False,
        ipe_service_categories=list(categories),
    )
    return Case().then(opened, ledger_tests.job_started("J1", "2024-03-01"))


def authorization(auth: str, start: str, end: str, category: str, **extra: Any) -> EventData:
    return event(
        "AuthorizationIssued",
        authorization_id=auth,
        provider_id="P1",
        service_category=category,
        start_date=start,
        end_date=end,
        amount="400.00",
        **extra,
    )


def pba_through_hire() -> list[EventData]:
    """A PBA opened 2024-01-10 with every milestone pre-authorized, plan and hire earned and
    paid in full (the hire's payment on 2024-03-05 holds the clock start: eligible 2024-06-03)."""
    on = "2024-01-10"
    return [
        ledger_tests.pba_opened(on=on),
        ledger_tests.milestone_auth("AUTH-PLAN", "placement_plan_signed", on=on),
        ledger_tests.milestone_auth("AUTH-HIRE", "job_hire", on=on),
        ledger_tests.milestone_auth("AUTH-PLACE", "successful_placement", on=on),
        ledger_tests.plan_signed("2024-02-01"),
        ledger_tests.job_hire("2024-03-01", job="J1"),
        ledger_tests.paid("AUTH-PLAN", "2024-02-05", "1000.00"),
        ledger_tests.paid("AUTH-HIRE", "2024-03-05", "1300.00"),
    ]


# --- the table --------------------------------------------------------------------------------


def test_every_event_type_names_its_business_date_field() -> None:
    assert set(BUSINESS_DATE_FIELDS) == set(EVENT_TYPES)
    for name, fields in BUSINESS_DATE_FIELDS.items():
        model_fields = EVENT_TYPES[name].model_fields
        assert all(f in model_fields for f in fields), name
    assert BUSINESS_DATE_FIELDS["EventRetracted"] == ()


def test_an_authorization_counts_from_issued_on_else_from_its_start_date() -> None:
    plain = authorization("A1", "2024-04-01", "2024-05-01", "job_coaching")
    early = authorization("A2", "2024-04-01", "2024-05-01", "job_coaching", issued_on="2024-03-20")
    assert business_date(plain) == D("2024-04-01")
    assert business_date(early) == D("2024-03-20")
    assert "issued_on" not in plain.to_json_dict()  # stored as sent: a retry compares equal


def test_a_retraction_applies_on_every_business_date() -> None:
    case = employed_2024()
    retraction = event("EventRetracted", retracted_event_id=str(case.facts[1].event_id), reason="typo")
    retracted = Case(case.facts + recorded(retraction, first_version=3))
    assert business_date(retraction) is None
    assert retracted.on("2024-06-20").status == "not_employed"
    assert replay_as_of(retracted.facts, D("2024-01-05")).clock.outcome is None


# --- the measured cases -----------------------------------------------------------------------


def test_a_job_that_ended_later_was_current_and_eligible_as_of_an_earlier_date() -> None:
    case = employed_2024().then(ledger_tests.job_ended("J1", "2024-07-01"))
    then = case.on("2024-06-20")
    assert (then.status, then.eligible_on) == ("eligible", D("2024-05-30"))
    assert case.on("2024-07-02").status == "not_employed"


def test_4_6_successful_placement_reached_before_a_later_job_end_is_earned() -> None:
    """Reached 2024-06-20, claimed after the job ended on 2024-07-01: the provider earned it."""
    case = employed_2024().then(*pba_through_hire(), ledger_tests.job_ended("J1", "2024-07-01"))
    assert case.when(ledger_tests.successful_placement("2024-06-20")) is None
    refusal = case.when(ledger_tests.successful_placement("2024-07-02"))
    assert refusal is not None and refusal.rule == "successful_placement_needs_eligible_clock"


def test_a_case_closed_later_is_not_closed_as_of_an_earlier_date() -> None:
    case = employed_2024().then(event("CaseClosed", closed_on="2024-06-20", outcome="successful"))
    assert case.on("2024-06-15").status == "eligible"
    assert case.on("2024-06-20").status == "closed"


def test_3_6_a_closure_is_judged_on_the_case_as_it_stood_on_closed_on() -> None:
    case = employed_2024().then(ledger_tests.job_ended("J1", "2024-07-01"))
    assert case.when(event("CaseClosed", closed_on="2024-06-20", outcome="successful")) is None


def test_a_payment_dated_later_has_not_happened_yet() -> None:
    case = employed_2024().then(
        authorization("A1", "2024-03-01", "2024-04-30", "job_coaching"),
        ledger_tests.paid("A1", "2024-04-10", "400.00"),
    )
    assert case.on("2024-04-05").clock_start_rule == "b_authorization_not_paid_in_full"
    assert case.on("2024-04-15").clock_start == D("2024-04-10")


# --- policy item 1: every service from the employment outcome is post-employment --------------


def test_3_7_an_unflagged_service_starting_after_the_outcome_needs_its_category_on_the_ipe() -> None:
    case = employed_2024()
    refusal = case.when(authorization("A1", "2024-04-01", "2024-04-30", "transport"))
    assert refusal is not None and refusal.rule == "pes_category_not_on_ipe"
    assert "on or after the employment outcome of 2024-03-01" in refusal.detail
    assert "PBA milestone pre-authorization" in refusal.detail and "M4" in refusal.detail
    amended = case.then(clock_tests.amended("2024-03-20", ("transport",)))
    assert amended.when(authorization("A1", "2024-04-01", "2024-04-30", "transport")) is None


def test_3_7_a_service_that_started_before_the_outcome_is_not_post_employment() -> None:
    case = employed_2024()
    assert case.when(authorization("A1", "2024-02-01", "2024-04-30", "transport")) is None


def test_3_7_pba_milestone_and_m4_authorizations_are_not_post_employment_services() -> None:
    case = employed_2024()
    milestone = ledger_tests.milestone_auth("AUTH-PLACE", "successful_placement", on="2024-04-01")
    m4 = authorization("M4", "2024-04-01", "2024-06-30", "supported_employment", m4=True)
    assert case.when(milestone) is None
    assert case.when(m4) is None


def test_3_7_after_cancel_ef_a_service_is_not_post_employment() -> None:
    case = employed_2024().then(clock_tests.cancel_ef("2024-03-15"))
    assert case.when(authorization("A1", "2024-04-01", "2024-04-30", "transport")) is None


# --- items 4 and 9 ----------------------------------------------------------------------------


def test_4_4_the_three_parties_sign_and_others_may_sign_too() -> None:
    case = employed_2024().then(*pba_through_hire()[:4])
    four = ledger_tests.plan_signed("2024-02-01", signed_by=("consumer", "provider", "vr_staff", "employer"))
    assert case.when(four) is None
    missing = case.when(
        ledger_tests.plan_signed("2024-02-01", signed_by=("consumer", "provider", "guardian"))
    )
    assert missing is not None and missing.rule == "placement_plan_needs_three_signatures"


def test_blocking_holds_what_blocks_and_explanation_what_set_the_clock_start() -> None:
    running = employed_2024().on("2024-04-01")
    assert running.blocking == ("Eligible for closure on 2024-05-30 (59 days remain).",)
    assert running.explanation == (
        "Employment outcome: job J1 started on 2024-03-01: the clock starts from the employment "
        "outcome date.",
    )
    eligible = employed_2024().on("2024-06-01")
    assert (eligible.blocking, eligible.explanation) == ((), running.explanation)


def test_the_checklist_judges_the_case_as_it_stands_on_its_date() -> None:
    case = employed_2024().then(ledger_tests.job_ended("J1", "2024-07-01"))
    request = PesRequest(
        purpose="maintain",
        service_category="job_coaching",
        complex_or_comprehensive=False,
        beyond_current_job_scope=False,
    )
    assert evaluate_post_employment_service(request, case.state.clock, D("2024-06-20")).qualifies
    assert not evaluate_post_employment_service(request, case.state.clock, D("2024-07-02")).qualifies


# --- the property: the clock as of D is the clock of the case built from events dated to D ----

START = date(2024, 1, 1)
days = st.integers(0, 300).map(lambda n: (START + timedelta(days=n)).isoformat())


@st.composite
def issued_on_sometimes(draw: st.DrawFn) -> EventData:
    start = START + timedelta(days=draw(st.integers(0, 200)))
    extra = {"issued_on": (start - timedelta(days=draw(st.integers(0, 30)))).isoformat()}
    return authorization(
        draw(clock_tests.auths),
        start.isoformat(),
        (start + timedelta(days=draw(st.integers(0, 90)))).isoformat(),
        draw(clock_tests.categories),
        **(extra if draw(st.booleans()) else {}),
    )


any_event = st.one_of(clock_tests.any_event, issued_on_sometimes())


@settings(max_examples=200, deadline=None)
@hypothesis_given(st.booleans(), st.lists(any_event, max_size=20), days)
def test_property_the_clock_as_of_d_is_the_clock_of_the_events_dated_up_to_d(
    se: bool, proposals: list[EventData], as_of_text: str
) -> None:
    facts = clock_tests.accepted_facts(se, proposals)
    as_of = D(as_of_text)
    dated = facts_as_of(facts, as_of)
    whole = fold(evolve_clock, initial_clock_state(), facts)
    built_to_d = fold(evolve_clock, initial_clock_state(), dated)
    expected = clock_on(clock_facts(built_to_d, DEFAULT_POLICY), as_of)
    assert clock_view(replay(facts), as_of, DEFAULT_POLICY) == expected
    assert clock_view(replay_as_of(facts, as_of), as_of, DEFAULT_POLICY) == expected
    restored = SNAPSHOT.validate_json(SNAPSHOT.dump_json(fold(evolve_case, initial_case_state(), facts)))
    assert clock_view(restored, as_of, DEFAULT_POLICY) == expected
    stored_row = clock_facts(whole, DEFAULT_POLICY)
    assert stored_row.latest_on == latest_business_date(facts)
    if stored_row.answers_for(as_of):
        assert clock_on(stored_row, as_of) == expected
