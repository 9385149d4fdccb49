"""The PBA payment ledger, given/when/then (contract section 4; performance-based-agreements.txt).

Each test is named after the rule it shows. A `Given` records events only when the
ledger accepts them, so every setup is itself a sequence the service would record.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from app.domain.facts import Fact, Refusal
from app.domain.ledger import (
    LedgerState,
    PbaLedger,
    decide_ledger,
    evolve_ledger,
    initial_ledger_state,
    ledger_view,
    open_pba_id,
    pba_provider,
)
from app.domain.policy import DEFAULT_POLICY, PolicyTable, policy_version
from app.events import EventData
from tests import builders as b
from tests.builders import typed
from tests.given import fold, recorded

PBA = "PBA-1"
PROVIDER = "CRP-7"
OPENED = "2025-01-06"
ELIGIBLE_ON = date(2025, 6, 1)
RATES = {
    "placement_plan_signed": "1000.00",
    "job_hire": "1300.00",
    "successful_placement": "1500.00",
}
# A second policy version, effective 2025-07-01, raises the placement plan to 1330.00.
RAISED_PLAN = PolicyTable(
    (
        DEFAULT_POLICY.versions[0],
        policy_version(
            date(2025, 7, 1),
            closure_wait_days=90,
            rates={
                "placement_plan_signed": Decimal("1330.00"),
                "job_hire": Decimal("1300.00"),
                "successful_placement": Decimal("1500.00"),
            },
            pba_cap=Decimal("3800.00"),
        ),
    )
)
SNAPSHOT = TypeAdapter(LedgerState)

ClockOn = Callable[[date], tuple[str, date | None]]


def clock(status: str = "eligible", eligible_on: date | None = ELIGIBLE_ON) -> ClockOn:
    """The case layer's closure clock, the same answer on every date."""
    return lambda _day: (status, eligible_on)


# --- events -------------------------------------------------------------------------------


def pba_opened(pba_id: str = PBA, provider: str = PROVIDER, on: Any = OPENED) -> EventData:
    return typed(b.pba_opened(pba_id, provider, str(on)))


def pba_ended(on: Any, reason: str = "completed", pba_id: str = PBA) -> EventData:
    return typed(b.pba_ended(pba_id, str(on), reason=reason))


def milestone_auth(
    auth_id: str, milestone: str, *, pba_id: str = PBA, provider: str = PROVIDER, on: Any = OPENED
) -> EventData:
    start = date.fromisoformat(str(on))
    end = str(start + timedelta(days=365))
    return typed(
        b.milestone_authorization(
            auth_id,
            pba_id,
            milestone,
            provider=provider,
            start=str(start),
            end=end,
            amount=RATES[milestone],
            category="job placement",
        )
    )


def service_auth(auth_id: str, provider: str = PROVIDER) -> EventData:
    return typed(
        b.authorization(
            auth_id, OPENED, "2025-12-31", provider=provider, category="job coaching", amount="400.00"
        )
    )


def plan_signed(
    on: Any,
    *,
    auth: str = "AUTH-PLAN",
    pba_id: str = PBA,
    signed_by: tuple[str, ...] = ("consumer", "provider", "vr_staff"),
    face_to_face: bool = True,
) -> EventData:
    return typed(b.plan_signed(pba_id, auth, str(on), signed_by=signed_by, face_to_face=face_to_face))


def job_hire(
    on: Any,
    *,
    job: str = "JOB-1",
    auth: str = "AUTH-HIRE",
    pba_id: str = PBA,
    placement_type: str = "individual",
    provider_is_employer: bool = False,
    job_source: str = "pba",
) -> EventData:
    return typed(
        b.job_hire(
            pba_id,
            auth,
            str(on),
            job_id=job,
            placement_type=placement_type,
            provider_is_employer=provider_is_employer,
            job_source=job_source,
        )
    )


def successful_placement(on: Any, *, auth: str = "AUTH-PLACE", pba_id: str = PBA) -> EventData:
    return typed(b.successful_placement(pba_id, auth, str(on)))


def job_started(job: str, on: Any, *, temporary: bool = False) -> EventData:
    return typed(
        b.employment_started(
            job, str(on), employer="Lakeside Bakery", hourly_wage="16.50", temporary=temporary
        )
    )


def job_ended(job: str, on: Any) -> EventData:
    return typed(b.employment_ended(job, str(on)))


def job_accepted(job: str, on: Any) -> EventData:
    return typed(b.ipe_amended(str(on), accepts_job_id=job))


def paid(auth: str, on: Any, amount: str, *, in_full: bool = True) -> EventData:
    return typed(b.paid(auth, str(on), amount, in_full=in_full))


def cancelled(auth: str, on: Any) -> EventData:
    return typed(b.cancelled(auth, str(on)))


# --- given / when / then ------------------------------------------------------------------


@dataclass
class Given:
    """A case's recorded facts; `accept` and `refuse` are the "when", the ledger the "then"."""

    policy: PolicyTable = DEFAULT_POLICY
    clock_on: ClockOn = field(default_factory=clock)
    facts: list[Fact] = field(default_factory=list)

    @classmethod
    def events(cls, *events: EventData, **kwargs: Any) -> Given:
        given = cls(**kwargs)
        for e in events:
            given.accept(e)
        return given

    @property
    def state(self) -> LedgerState:
        return fold(evolve_ledger, initial_ledger_state(), self.facts)

    def decide(self, e: EventData) -> Refusal | None:
        return decide_ledger(self.state, e, clock_on=self.clock_on, policy=self.policy)

    def accept(self, e: EventData) -> Given:
        refusal = self.decide(e)
        assert refusal is None, f"{e.TYPE} was refused: {refusal}"
        self.facts += recorded(e, first_version=len(self.facts) + 1)
        return self

    def refuse(self, e: EventData) -> Refusal:
        refusal = self.decide(e)
        assert refusal is not None, f"{e.TYPE} was accepted"
        assert refusal.code == "rule_violation"
        return refusal

    def ledger(self, pba_id: str = PBA) -> PbaLedger:
        return next(p for p in ledger_view(self.state, self.policy) if p.pba_id == pba_id)

    def event_id_of(self, e: EventData) -> str:
        return str(next(f.event_id for f in self.facts if f.data == e))


def authorized_pba() -> list[EventData]:
    """PBA-1 of CRP-7, opened 2025-01-06, with each milestone pre-authorized."""
    return [
        pba_opened(),
        milestone_auth("AUTH-PLAN", "placement_plan_signed"),
        milestone_auth("AUTH-HIRE", "job_hire"),
        milestone_auth("AUTH-PLACE", "successful_placement"),
    ]


def through_plan() -> list[EventData]:
    return [*authorized_pba(), plan_signed("2025-02-03")]


def through_hire(*, temporary: bool = False) -> list[EventData]:
    return [
        *through_plan(),
        job_started("JOB-1", "2025-03-03", temporary=temporary),
        job_hire("2025-03-03"),
    ]


def amounts(ledger: PbaLedger) -> list[tuple[str, str]]:
    return [(line.milestone, str(line.amount)) for line in ledger.milestones]


# --- 4.1 rates and the cap ----------------------------------------------------------------


def test_4_1_pba_from_plan_to_successful_placement_with_payments() -> None:
    given = Given.events(
        *through_hire(),
        paid("AUTH-PLAN", "2025-02-20", "1000.00"),
        paid("AUTH-HIRE", "2025-03-20", "600.00", in_full=False),
    )

    given.accept(successful_placement("2025-06-02"))

    ledger = given.ledger()
    assert amounts(ledger) == [
        ("placement_plan_signed", "1000.00"),
        ("job_hire", "1300.00"),
        ("successful_placement", "1500.00"),
    ]
    assert [str(line.outstanding) for line in ledger.milestones] == ["0.00", "700.00", "1500.00"]
    assert [line.note for line in ledger.milestones] == [None, None, None]
    assert (str(ledger.earned), str(ledger.authorized)) == ("3800.00", "3800.00")
    assert (str(ledger.paid), str(ledger.outstanding)) == ("1600.00", "2200.00")
    assert (str(ledger.cap), str(ledger.cap_left)) == ("3800.00", "0.00")
    assert (ledger.status, ledger.anomalies) == ("open", ())

    given.accept(pba_ended("2025-06-30", "completed"))
    ended = given.ledger()
    assert (ended.status, ended.ended_on, ended.end_reason) == (
        "ended",
        date(2025, 6, 30),
        "completed",
    )


def test_4_1_milestone_priced_by_the_rate_in_force_on_reached_on() -> None:
    before = Given.events(*authorized_pba(), policy=RAISED_PLAN)
    before.accept(plan_signed("2025-06-30"))
    assert amounts(before.ledger()) == [("placement_plan_signed", "1000.00")]

    from_july = Given.events(*authorized_pba(), policy=RAISED_PLAN)
    from_july.accept(plan_signed("2025-07-01"))
    assert amounts(from_july.ledger()) == [("placement_plan_signed", "1330.00")]


def test_4_1_cap_limits_the_last_milestone_to_the_cap_left_with_a_note() -> None:
    given = Given.events(
        *authorized_pba(),
        plan_signed("2025-07-01"),
        job_started("JOB-1", "2025-07-14"),
        job_hire("2025-07-14"),
        policy=RAISED_PLAN,
    )

    given.accept(successful_placement("2025-10-13"))

    ledger = given.ledger()
    assert amounts(ledger) == [
        ("placement_plan_signed", "1330.00"),
        ("job_hire", "1300.00"),
        ("successful_placement", "1170.00"),
    ]
    last = ledger.milestones[-1]
    assert str(last.rate) == "1500.00"
    assert last.note is not None and "1170.00" in last.note and "cap of 3800.00" in last.note
    assert (str(ledger.earned), str(ledger.cap_left)) == ("3800.00", "0.00")


def test_4_1_a_rate_change_does_not_reprice_an_earlier_pba() -> None:
    given = Given.events(*authorized_pba(), plan_signed("2025-06-30"), policy=RAISED_PLAN)
    given.accept(pba_ended("2025-06-30", "significant_amendment"))
    given.accept(pba_opened("PBA-2", on="2025-07-01"))
    given.accept(milestone_auth("AUTH-PLAN-2", "placement_plan_signed", pba_id="PBA-2"))
    given.accept(plan_signed("2025-07-01", auth="AUTH-PLAN-2", pba_id="PBA-2"))

    assert amounts(given.ledger(PBA)) == [("placement_plan_signed", "1000.00")]
    assert amounts(given.ledger("PBA-2")) == [("placement_plan_signed", "1330.00")]


# --- 4.2 once per open PBA, in order, pre-authorized -----------------------------------------


def test_4_2_milestone_refused_when_already_earned() -> None:
    given = Given.events(*through_plan())
    earned_by = given.event_id_of(through_plan()[-1])

    refusal = given.refuse(plan_signed("2025-02-10"))

    assert refusal.rule == "milestone_already_earned"
    assert "2025-02-03" in refusal.detail and earned_by in refusal.detail
    assert "once per provider, per open PBA" in refusal.detail


def test_4_2_successful_placement_refused_when_already_earned() -> None:
    given = Given.events(*through_hire(), successful_placement("2025-06-02"))

    refusal = given.refuse(successful_placement("2025-06-09"))

    assert refusal.rule == "milestone_already_earned"
    assert "2025-06-02" in refusal.detail


@pytest.mark.parametrize(
    ("setup", "claim", "missing"),
    [
        (
            [*authorized_pba(), job_started("JOB-1", "2025-03-03")],
            job_hire("2025-03-03"),
            "placement_plan_signed",
        ),
        (through_plan(), successful_placement("2025-06-02"), "job_hire"),
    ],
    ids=["job_hire_before_plan", "successful_placement_before_job_hire"],
)
def test_4_2_milestone_refused_out_of_order(setup: list[EventData], claim: EventData, missing: str) -> None:
    refusal = Given.events(*setup).refuse(claim)

    assert refusal.rule == "milestone_out_of_order"
    assert f"needs the {missing} milestone first" in refusal.detail


def test_4_2_milestone_refused_when_dated_before_the_milestone_it_follows() -> None:
    given = Given.events(*through_plan(), job_started("JOB-1", "2025-01-27"))

    refusal = given.refuse(job_hire("2025-01-27"))

    assert refusal.rule == "milestone_out_of_order"
    assert "2025-01-27" in refusal.detail and "placement_plan_signed reached on 2025-02-03" in refusal.detail


@pytest.mark.parametrize(
    ("setup", "auth", "which_part"),
    [
        (authorized_pba(), "AUTH-NONE", "names no AuthorizationIssued of this case"),
        (
            [*authorized_pba(), cancelled("AUTH-PLAN", "2025-01-20")],
            "AUTH-PLAN",
            "was cancelled on 2025-01-20",
        ),
        (
            [
                milestone_auth("AUTH-X", "placement_plan_signed", provider="CRP-9"),
                *authorized_pba(),
            ],
            "AUTH-X",
            "is issued to provider CRP-9, not to CRP-7",
        ),
        (
            [*authorized_pba(), service_auth("AUTH-COACH")],
            "AUTH-COACH",
            "pre-authorizes no PBA milestone",
        ),
        (
            [*authorized_pba(), milestone_auth("AUTH-9", "placement_plan_signed", pba_id="PBA-9")],
            "AUTH-9",
            "is for PBA PBA-9, not PBA PBA-1",
        ),
        (authorized_pba(), "AUTH-HIRE", "pre-authorizes job_hire, not placement_plan_signed"),
    ],
    ids=[
        "unknown",
        "cancelled",
        "other_provider",
        "not_a_milestone",
        "other_pba",
        "other_milestone",
    ],
)
def test_4_2_milestone_refused_when_not_preauthorized(
    setup: list[EventData], auth: str, which_part: str
) -> None:
    refusal = Given.events(*setup).refuse(plan_signed("2025-02-03", auth=auth))

    assert refusal.rule == "milestone_not_preauthorized"
    assert f"authorization {auth} {which_part}" in refusal.detail


@pytest.mark.parametrize(
    ("setup", "why"),
    [
        ([], "no PBAOpened of this case names it"),
        (
            [*authorized_pba(), pba_ended("2025-01-31", "withdrawn")],
            "it ended on 2025-01-31, reason withdrawn",
        ),
    ],
    ids=["unknown_pba", "ended_pba"],
)
def test_4_2_milestone_refused_when_pba_not_open(setup: list[EventData], why: str) -> None:
    refusal = Given.events(*setup).refuse(plan_signed("2025-02-03"))

    assert refusal.rule == "pba_not_open"
    assert "PBA-1" in refusal.detail and why in refusal.detail


def test_4_2_milestone_refused_when_dated_before_the_pba_opened() -> None:
    refusal = Given.events(*authorized_pba()).refuse(plan_signed("2025-01-05"))

    assert refusal.rule == "milestone_before_pba_opened"
    assert "2025-01-05" in refusal.detail and "opened on 2025-01-06" in refusal.detail


# --- 4.3 one primary provider --------------------------------------------------------------


def test_4_3_one_primary_provider_refuses_a_second_open_pba() -> None:
    refusal = Given.events(pba_opened()).refuse(pba_opened("PBA-2", "CRP-9", "2025-02-01"))

    assert refusal.rule == "one_primary_provider"
    assert "PBA-1 of provider CRP-7" in refusal.detail and "PBA-2" in refusal.detail


def test_4_3_pba_id_cannot_be_reused() -> None:
    given = Given.events(pba_opened(), pba_ended("2025-02-01", "withdrawn"))

    refusal = given.refuse(pba_opened(on="2025-03-01"))

    assert refusal.rule == "pba_id_already_used"
    assert "PBA-1" in refusal.detail and "2025-01-06" in refusal.detail


@pytest.mark.parametrize(
    ("setup", "why"),
    [
        ([], "no PBAOpened of this case names it"),
        ([pba_opened(), pba_ended("2025-02-01")], "it ended on 2025-02-01, reason completed"),
    ],
    ids=["unknown_pba", "already_ended"],
)
def test_4_3_pba_ended_refused_when_pba_not_open(setup: list[EventData], why: str) -> None:
    refusal = Given.events(*setup).refuse(pba_ended("2025-03-01", "withdrawn"))

    assert refusal.rule == "pba_not_open"
    assert why in refusal.detail


def test_4_3_pba_ended_refused_before_it_opened() -> None:
    refusal = Given.events(pba_opened()).refuse(pba_ended("2025-01-05"))

    assert refusal.rule == "pba_ended_before_opened"
    assert "2025-01-05" in refusal.detail and "2025-01-06" in refusal.detail


@pytest.mark.parametrize("reason", ["significant_amendment", "completed", "withdrawn"])
def test_4_3_new_pba_after_pba_ended_earns_the_placement_plan_again(reason: str) -> None:
    given = Given.events(*through_plan(), pba_ended("2025-04-01", reason))

    given.accept(pba_opened("PBA-2", on="2025-04-07"))
    given.accept(milestone_auth("AUTH-PLAN-2", "placement_plan_signed", pba_id="PBA-2"))
    given.accept(plan_signed("2025-04-14", auth="AUTH-PLAN-2", pba_id="PBA-2"))

    first, second = ledger_view(given.state, given.policy)
    assert (first.pba_id, first.status, first.end_reason, str(first.earned)) == (
        PBA,
        "ended",
        reason,
        "1000.00",
    )
    assert (second.pba_id, second.status) == ("PBA-2", "open")
    assert amounts(second) == [("placement_plan_signed", "1000.00")]
    assert open_pba_id(given.state) == "PBA-2"


def test_pba_provider_and_open_pba_id_answer_for_the_case() -> None:
    given = Given.events(pba_opened())
    assert (pba_provider(given.state, PBA), open_pba_id(given.state)) == (PROVIDER, PBA)
    assert pba_provider(given.state, "PBA-9") is None

    given.accept(pba_ended("2025-02-01"))
    assert (pba_provider(given.state, PBA), open_pba_id(given.state)) == (PROVIDER, None)


# --- 4.4 placement plan and job hire evidence ----------------------------------------------


def test_4_4_placement_plan_refused_without_all_three_signatures() -> None:
    given = Given.events(*authorized_pba())

    refusal = given.refuse(plan_signed("2025-02-03", signed_by=("consumer", "provider")))

    assert refusal.rule == "placement_plan_needs_three_signatures"
    assert "vr_staff" in refusal.detail and "signed by all three parties" in refusal.detail


def test_4_4_placement_plan_refused_without_a_face_to_face_meeting() -> None:
    given = Given.events(*authorized_pba())

    refusal = given.refuse(plan_signed("2025-02-03", face_to_face=False))

    assert refusal.rule == "placement_plan_needs_face_to_face_meeting"
    assert "face-to-face meeting" in refusal.detail and "2025-02-03" in refusal.detail


def test_4_4_job_hire_refused_when_provider_is_employer() -> None:
    given = Given.events(*through_plan(), job_started("JOB-1", "2025-03-03"))

    refusal = given.refuse(job_hire("2025-03-03", provider_is_employer=True))

    assert refusal.rule == "job_hire_provider_is_employer"
    assert "conflict of interest" in refusal.detail and "JOB-1" in refusal.detail


@pytest.mark.parametrize("placement_type", ["enclave", "clustered", "scattered"])
def test_4_4_job_hire_refused_when_not_individual_placement(placement_type: str) -> None:
    given = Given.events(*through_plan(), job_started("JOB-1", "2025-03-03"))

    refusal = given.refuse(job_hire("2025-03-03", placement_type=placement_type))

    assert refusal.rule == "job_hire_not_individual_placement"
    assert placement_type in refusal.detail and "single site jobs" in refusal.detail


def test_4_4_job_hire_refused_when_the_job_came_from_another_service() -> None:
    given = Given.events(*through_plan(), job_started("JOB-1", "2025-03-03"))

    refusal = given.refuse(job_hire("2025-03-03", job_source="other_service"))

    assert refusal.rule == "job_hire_from_other_service"
    assert "job offer results from another service" in refusal.detail


def test_4_4_job_hire_from_on_the_job_training_or_try_out_qualifies() -> None:
    given = Given.events(*through_plan(), job_started("JOB-1", "2025-03-03"))

    given.accept(job_hire("2025-03-03", job_source="ojt_or_try_out"))

    assert amounts(given.ledger())[-1] == ("job_hire", "1300.00")


# --- 4.5 re-placement after a job loss ------------------------------------------------------


def test_4_5_replacement_after_job_loss_is_recorded_at_zero_and_says_why() -> None:
    given = Given.events(
        *through_hire(), job_ended("JOB-1", "2025-04-10"), job_started("JOB-2", "2025-05-05")
    )

    given.accept(job_hire("2025-05-05", job="JOB-2"))

    ledger = given.ledger()
    replacement = ledger.milestones[-1]
    assert (str(replacement.rate), str(replacement.amount)) == ("1300.00", "0.00")
    assert replacement.note is not None
    assert "re-placed by the provider with no additional payment" in replacement.note
    assert "2025-03-03" in replacement.note
    assert str(ledger.earned) == "2300.00"

    given.accept(successful_placement("2025-08-04"))
    assert str(given.ledger().earned) == "3800.00"


def test_4_5_second_job_hire_refused_while_the_first_job_is_current() -> None:
    given = Given.events(*through_hire(), job_started("JOB-2", "2025-05-05"))

    refusal = given.refuse(job_hire("2025-05-05", job="JOB-2"))

    assert refusal.rule == "milestone_already_earned"
    assert "job JOB-1" in refusal.detail and "has not ended" in refusal.detail


def test_4_5_replacement_paid_on_its_own_authorization_is_an_anomaly() -> None:
    given = Given.events(
        *through_hire(),
        job_ended("JOB-1", "2025-04-10"),
        job_started("JOB-2", "2025-05-05"),
        milestone_auth("AUTH-HIRE-2", "job_hire"),
        job_hire("2025-05-05", job="JOB-2", auth="AUTH-HIRE-2"),
    )

    given.accept(paid("AUTH-HIRE-2", "2025-05-20", "1300.00"))

    (anomaly,) = given.ledger().anomalies
    assert "AUTH-HIRE-2" in anomaly and "1300.00 more than the 0.00 earned" in anomaly


# --- 4.6 successful placement -------------------------------------------------------------


def test_4_6_successful_placement_needs_eligible_clock_naming_the_eligible_date() -> None:
    given = Given.events(*through_hire(), clock_on=clock("running", date(2025, 8, 4)))

    refusal = given.refuse(successful_placement("2025-06-02"))

    assert refusal.rule == "successful_placement_needs_eligible_clock"
    assert "running" in refusal.detail and "eligible on 2025-08-04" in refusal.detail


def test_4_6_successful_placement_needs_eligible_clock_even_without_an_eligible_date() -> None:
    given = Given.events(*through_hire(), clock_on=clock("awaiting_m4", None))

    refusal = given.refuse(successful_placement("2025-06-02"))

    assert refusal.rule == "successful_placement_needs_eligible_clock"
    assert "awaiting_m4" in refusal.detail and "no eligible date is known yet" in refusal.detail


def test_4_6_temporary_job_refused_then_accepted_after_ipe_amendment_accepts_it() -> None:
    given = Given.events(*through_hire(temporary=True))

    refusal = given.refuse(successful_placement("2025-06-02"))
    assert refusal.rule == "successful_placement_needs_suitable_job"
    assert "JOB-1" in refusal.detail and "temporary" in refusal.detail

    given.accept(job_accepted("JOB-1", "2025-05-15"))
    given.accept(successful_placement("2025-06-02"))
    assert str(given.ledger().earned) == "3800.00"


def test_4_6_ipe_amendment_recorded_before_the_job_started_does_not_accept_it() -> None:
    given = Given.events(
        *through_plan(),
        job_accepted("JOB-1", "2025-02-20"),
        job_started("JOB-1", "2025-03-03", temporary=True),
        job_hire("2025-03-03"),
    )

    refusal = given.refuse(successful_placement("2025-06-02"))

    assert refusal.rule == "successful_placement_needs_suitable_job"


def test_4_6_successful_placement_needs_a_current_job() -> None:
    given = Given.events(*through_hire(), job_ended("JOB-1", "2025-05-30"))

    refusal = given.refuse(successful_placement("2025-06-02"))

    assert refusal.rule == "successful_placement_needs_suitable_job"
    assert "no current job on 2025-06-02" in refusal.detail


# --- payments and authorizations ------------------------------------------------------------


def test_payment_above_the_earned_amount_is_accepted_and_listed_as_an_anomaly() -> None:
    given = Given.events(*through_hire())

    given.accept(paid("AUTH-HIRE", "2025-03-20", "1500.00"))

    ledger = given.ledger()
    hire = ledger.milestones[1]
    assert (str(hire.paid), str(hire.outstanding)) == ("1500.00", "0.00")
    (anomaly,) = ledger.anomalies
    assert "AUTH-HIRE" in anomaly and "1500.00" in anomaly and "200.00 more than the 1300.00" in anomaly
    assert (str(ledger.paid), str(ledger.outstanding)) == ("1500.00", "1000.00")


def test_payment_on_a_milestone_not_earned_is_accepted_and_listed_as_an_anomaly() -> None:
    given = Given.events(*through_plan())
    payment = paid("AUTH-PLACE", "2025-03-01", "1500.00")

    given.accept(payment)

    ledger = given.ledger()
    (anomaly,) = ledger.anomalies
    assert given.event_id_of(payment) in anomaly
    assert "AUTH-PLACE" in anomaly and "1500.00" in anomaly and "successful_placement" in anomaly
    # The stray payment pays the PBA's money out but does not pay the placement plan.
    assert (str(ledger.paid), str(ledger.outstanding)) == ("1500.00", "1000.00")


def test_authorized_sums_the_milestone_authorizations_not_cancelled() -> None:
    given = Given.events(*authorized_pba(), service_auth("AUTH-COACH"))
    assert str(given.ledger().authorized) == "3800.00"

    given.accept(cancelled("AUTH-PLACE", "2025-02-01"))

    assert str(given.ledger().authorized) == "2300.00"


def test_cancelling_the_authorization_of_an_earned_milestone_is_listed_as_an_anomaly() -> None:
    given = Given.events(*through_plan())

    given.accept(cancelled("AUTH-PLAN", "2025-02-10"))

    ledger = given.ledger()
    assert str(ledger.milestones[0].amount) == "1000.00"
    (anomaly,) = ledger.anomalies
    assert "AUTH-PLAN" in anomaly and "cancelled on 2025-02-10" in anomaly


def test_milestone_authorization_refused_when_its_authorization_id_was_issued() -> None:
    given = Given.events(pba_opened(), service_auth("AUTH-1"))

    refusal = given.refuse(milestone_auth("AUTH-1", "placement_plan_signed"))

    assert refusal.rule == "authorization_id_already_issued"
    assert "AUTH-1" in refusal.detail


def test_milestone_authorization_refused_for_another_provider_than_the_pbas() -> None:
    given = Given.events(pba_opened())

    refusal = given.refuse(milestone_auth("AUTH-1", "job_hire", provider="CRP-9"))

    assert refusal.rule == "milestone_authorization_wrong_provider"
    assert "CRP-9" in refusal.detail and "CRP-7" in refusal.detail


def test_milestone_authorization_refused_for_an_ended_pba() -> None:
    given = Given.events(pba_opened(), pba_ended("2025-02-01"))

    refusal = given.refuse(milestone_auth("AUTH-1", "job_hire"))

    assert refusal.rule == "pba_not_open"


def test_milestone_authorization_may_come_before_its_pba_is_opened() -> None:
    given = Given.events(milestone_auth("AUTH-PLAN", "placement_plan_signed"), pba_opened())

    given.accept(plan_signed("2025-02-03"))

    assert str(given.ledger().authorized) == "1000.00"


# --- folding, views and snapshots -----------------------------------------------------------


def test_event_retracted_changes_nothing_in_the_ledger() -> None:
    given = Given.events(*through_plan())
    before = given.state

    after = evolve_ledger(
        before,
        recorded(typed(b.retracted(given.facts[-1].event_id, reason="typo")))[0],
    )

    assert after == before


def test_ledger_json_is_plain_json_with_money_as_strings() -> None:
    given = Given.events(*through_hire(), paid("AUTH-PLAN", "2025-02-20", "1000.00"))

    served = json.loads(json.dumps(given.ledger().to_json()))

    assert served["earned"] == "2300.00" and served["cap_left"] == "1500.00"
    assert (served["opened_on"], served["ended_on"], served["status"]) == (
        "2025-01-06",
        None,
        "open",
    )
    plan = served["milestones"][0]
    assert plan["amount"] == "1000.00" and plan["paid"] == "1000.00" and plan["reached_on"] == "2025-02-03"
    assert plan["event_id"] == str(given.facts[4].event_id)
    assert served["anomalies"] == []


def test_snapshot_json_round_trip_preserves_the_state() -> None:
    given = Given.events(
        *through_hire(temporary=True),
        job_accepted("JOB-1", "2025-05-15"),
        successful_placement("2025-06-02"),
        paid("AUTH-HIRE", "2025-03-20", "600.00", in_full=False),
        cancelled("AUTH-PLACE", "2025-06-10"),
        pba_ended("2025-06-30"),
    )

    restored = SNAPSHOT.validate_json(SNAPSHOT.dump_json(given.state))

    assert restored == given.state
    assert ledger_view(restored, DEFAULT_POLICY) == ledger_view(given.state, DEFAULT_POLICY)


# --- property: random valid sequences ------------------------------------------------------

_PBAS = ("PBA-1", "PBA-2")
_PROVIDERS = ("CRP-7", "CRP-9")
_JOBS = ("JOB-1", "JOB-2")
_MILESTONES = tuple(RATES)
_DAY0 = date(2025, 6, 1)

_step = st.one_of(
    st.tuples(st.just("open"), st.sampled_from(_PBAS), st.sampled_from(_PROVIDERS)),
    st.tuples(
        st.just("end"),
        st.sampled_from(_PBAS),
        st.sampled_from(["completed", "withdrawn", "significant_amendment"]),
    ),
    st.tuples(
        st.just("auth"),
        st.sampled_from(_PBAS),
        st.sampled_from(_MILESTONES),
        st.sampled_from(_PROVIDERS),
        st.integers(1, 2),
    ),
    st.tuples(st.just("cancel"), st.sampled_from(_PBAS), st.sampled_from(_MILESTONES), st.integers(1, 2)),
    st.tuples(
        st.just("pay"),
        st.sampled_from(_PBAS),
        st.sampled_from(_MILESTONES),
        st.integers(1, 2),
        st.sampled_from(["500.00", "1300.00", "1500.00"]),
    ),
    st.tuples(
        st.just("claim"),
        st.sampled_from(_PBAS),
        st.sampled_from(_MILESTONES),
        st.integers(1, 2),
        st.sampled_from(_JOBS),
        st.booleans(),
    ),
    st.tuples(st.just("job_start"), st.sampled_from(_JOBS), st.booleans()),
    st.tuples(st.just("job_end"), st.sampled_from(_JOBS)),
    st.tuples(st.just("accept_job"), st.sampled_from(_JOBS)),
    st.tuples(
        st.just("happy_path"),
        st.sampled_from(_PBAS),
        st.sampled_from(_PROVIDERS),
        st.sampled_from(_JOBS),
    ),
    st.tuples(st.just("re_place"), st.sampled_from(_PBAS), st.permutations(_JOBS), st.integers(1, 2)),
)


def _auth_id(pba_id: str, milestone: str, n: int) -> str:
    return f"A-{pba_id}-{milestone[:4]}-{n}"


def _claim(pba_id: str, milestone: str, n: int, job: str, on: date, flawed: bool) -> EventData:
    auth = _auth_id(pba_id, milestone, n)
    if milestone == "placement_plan_signed":
        return plan_signed(on, auth=auth, pba_id=pba_id, face_to_face=not flawed)
    if milestone == "job_hire":
        return job_hire(on, job=job, auth=auth, pba_id=pba_id, provider_is_employer=flawed)
    return successful_placement(on, auth=auth, pba_id=pba_id)


def _events_of(step: tuple[Any, ...], on: date) -> list[EventData]:
    """One generated step as the events a case system or provider would send that day."""
    match step:
        case ("open", pba_id, provider):
            return [pba_opened(pba_id, provider, on)]
        case ("end", pba_id, reason):
            return [pba_ended(on, reason, pba_id)]
        case ("auth", pba_id, milestone, provider, n):
            return [
                milestone_auth(
                    _auth_id(pba_id, milestone, n),
                    milestone,
                    pba_id=pba_id,
                    provider=provider,
                    on=on,
                )
            ]
        case ("cancel", pba_id, milestone, n):
            return [cancelled(_auth_id(pba_id, milestone, n), on)]
        case ("pay", pba_id, milestone, n, amount):
            return [paid(_auth_id(pba_id, milestone, n), on, amount)]
        case ("claim", pba_id, milestone, n, job, flawed):
            return [_claim(pba_id, milestone, n, job, on, flawed)]
        case ("job_start", job, temporary):
            return [job_started(job, on, temporary=temporary)]
        case ("job_end", job):
            return [job_ended(job, on)]
        case ("accept_job", job):
            return [job_accepted(job, on)]
        case ("happy_path", pba_id, provider, job):
            auths = [
                milestone_auth(_auth_id(pba_id, m, 1), m, pba_id=pba_id, provider=provider, on=on)
                for m in _MILESTONES
            ]
            claims = [_claim(pba_id, m, 1, job, on, False) for m in _MILESTONES]
            return [pba_opened(pba_id, provider, on), *auths, job_started(job, on), *claims]
        case ("re_place", pba_id, (lost, new), n):
            return [
                job_ended(lost, on),
                job_started(new, on),
                _claim(pba_id, "job_hire", n, new, on, False),
            ]
    raise AssertionError(step)


def _record_valid(steps: list[tuple[Any, ...]], eligible_from: date) -> tuple[list[Fact], list[LedgerState]]:
    """Fold the generated events the ledger accepts; drop the ones it refuses."""

    def clock_on(day: date) -> tuple[str, date | None]:
        return ("eligible" if day >= eligible_from else "running"), eligible_from

    facts: list[Fact] = []
    states = [initial_ledger_state()]
    for i, step in enumerate(steps):
        for e in _events_of(step, _DAY0 + timedelta(days=3 * i)):
            if decide_ledger(states[-1], e, clock_on=clock_on, policy=RAISED_PLAN) is None:
                facts += recorded(e, first_version=len(facts) + 1)
                states.append(evolve_ledger(states[-1], facts[-1]))
    return facts, states


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(_step, max_size=40), eligible_after=st.integers(0, 60))
def test_property_valid_sequences_fold_the_same_and_survive_a_snapshot(
    steps: list[tuple[Any, ...]], eligible_after: int
) -> None:
    facts, states = _record_valid(steps, _DAY0 + timedelta(days=eligible_after))
    snapshots = [SNAPSHOT.dump_json(s) for s in states]
    final = states[-1]

    again = fold(evolve_ledger, initial_ledger_state(), facts)
    assert again == final
    assert ledger_view(again, RAISED_PLAN) == ledger_view(final, RAISED_PLAN)

    middle = len(states) // 2
    restored = SNAPSHOT.validate_json(snapshots[middle])
    assert restored == states[middle]
    assert fold(evolve_ledger, restored, facts[middle:]) == final
    # Folding never changed an earlier state in place.
    assert [SNAPSHOT.dump_json(s) for s in states] == snapshots

    views = ledger_view(final, RAISED_PLAN)
    assert sum(v.status == "open" for v in views) <= 1
    for view in views:
        assert view.earned == sum((line.amount for line in view.milestones), Decimal("0.00"))
        assert Decimal("0.00") <= view.earned <= view.cap == Decimal("3800.00")
        assert view.cap_left == view.cap - view.earned
        assert view.outstanding == sum((line.outstanding for line in view.milestones), Decimal("0.00"))
        for line in view.milestones:
            assert line.amount <= line.rate
            assert line.outstanding == max(Decimal("0.00"), line.amount - line.paid)
