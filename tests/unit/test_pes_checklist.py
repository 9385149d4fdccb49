"""The post-employment services checklist (maintain / regain / advance) as decision support.

Given a case's clock state and the counselor's answers, the decision says whether
the service is a post-employment service, whether the IPE needs an amendment,
and what to do next, quoting the policy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from app.domain.clock import ClockState, evolve_clock, initial_clock_state
from app.domain.pes_checklist import (
    AMENDMENT_REQUIRED,
    CANCEL_EF,
    CLOSED,
    MAINTAIN_QUESTIONS,
    NOT_A_PES,
    SAME_PATHWAY,
    SAME_SOC,
    PesRequest,
    evaluate_post_employment_service,
)
from app.events.types import EventData
from tests.builders import event
from tests.given import fold, recorded

# The policy texts sit beside the repository (../shared/policy/), as in CI's clone.
POLICY_TEXT = Path(__file__).resolve().parents[3] / "shared" / "policy" / "post-employment-services.txt"


def case(*more: EventData) -> ClockState:
    """A case whose client started job J1 (SOC 41-2011) on 2025-01-06, then `more`."""
    facts = recorded(
        event(
            "CaseOpened",
            opened_on="2025-01-02",
            supported_employment=False,
            ipe_service_categories=["job_coaching"],
        ),
        event(
            "EmploymentStarted",
            job_id="J1",
            start_date="2025-01-06",
            employer="Acme Foods",
            soc_code="41-2011",
            hours_per_week=30,
            hourly_wage="16.50",
        ),
        *more,
    )
    return fold(evolve_clock, initial_clock_state(), facts)


def request(purpose: str = "maintain", **answers: Any) -> PesRequest:
    body: dict[str, Any] = {
        "purpose": purpose,
        "service_category": "job_coaching",
        "complex_or_comprehensive": False,
        "beyond_current_job_scope": False,
        **answers,
    }
    return PesRequest.model_validate(body)


def test_maintain_in_a_category_on_the_ipe_is_a_post_employment_service() -> None:
    decision = evaluate_post_employment_service(request(), case())
    assert decision.qualifies
    assert decision.action == "authorize_post_employment_service"
    assert not decision.amendment_required
    assert list(MAINTAIN_QUESTIONS) == decision.considerations[:3]
    assert any("90 day timeline for case closure starts over" in r for r in decision.reasons)


def test_a_category_not_on_the_ipe_needs_an_amendment_first() -> None:
    decision = evaluate_post_employment_service(request(service_category="transport"), case())
    assert decision.qualifies and decision.amendment_required
    assert any(r.startswith(AMENDMENT_REQUIRED) and "transport" in r for r in decision.reasons)
    assert "Enter the IPE Amendment in QE2;" in decision.considerations


def test_an_amendment_already_recorded_means_none_is_required() -> None:
    amended = case(event("IPEAmended", amended_on="2025-02-01", service_categories_added=["transport"]))
    decision = evaluate_post_employment_service(request(service_category="transport"), amended)
    assert decision.qualifies and not decision.amendment_required


@pytest.mark.parametrize("answers", [{"complex_or_comprehensive": True}, {"beyond_current_job_scope": True}])
def test_complex_or_beyond_the_current_job_is_not_a_pes_cancel_ef(answers: dict[str, bool]) -> None:
    decision = evaluate_post_employment_service(request(**answers), case())
    assert not decision.qualifies and not decision.amendment_required
    assert decision.action == "cancel_employment_follow_up"
    assert decision.reasons == [NOT_A_PES, CANCEL_EF]


def test_regain_in_the_same_soc_code_qualifies() -> None:
    decision = evaluate_post_employment_service(request("regain", new_job_soc_code="41-2011"), case())
    assert decision.qualifies
    assert decision.considerations[0].startswith("What prevents the client from seeking")


def test_regain_in_another_soc_code_is_not_a_pes() -> None:
    lost = case(event("EmploymentEnded", job_id="J1", end_date="2025-02-01", reason="laid off"))
    decision = evaluate_post_employment_service(request("regain", new_job_soc_code="35-2014"), lost)
    assert not decision.qualifies
    assert decision.action == "cancel_employment_follow_up"
    assert decision.reasons[0].startswith(SAME_SOC)
    assert "35-2014" in decision.reasons[0] and "41-2011" in decision.reasons[0]


def test_advance_needs_the_same_career_pathway() -> None:
    decision = evaluate_post_employment_service(
        request("advance", same_career_pathway=False, advancement_brings=["pay"]), case()
    )
    assert not decision.qualifies and decision.action == "cancel_employment_follow_up"
    assert decision.reasons[0].startswith(SAME_PATHWAY)


def test_advance_that_brings_no_pay_hours_promotion_or_benefits_is_not_a_pes() -> None:
    decision = evaluate_post_employment_service(request("advance", same_career_pathway=True), case())
    assert not decision.qualifies and decision.action == "cancel_employment_follow_up"


def test_advance_in_the_same_pathway_with_a_promotion_qualifies() -> None:
    decision = evaluate_post_employment_service(
        request("advance", same_career_pathway=True, advancement_brings=["promotion"]), case()
    )
    assert decision.qualifies
    assert "What assistance, if any, is available from the employer?" in decision.considerations


def test_after_closure_a_new_case_must_be_opened() -> None:
    closed = case(event("CaseClosed", closed_on="2025-04-10", outcome="successful"))
    decision = evaluate_post_employment_service(request(), closed)
    assert (decision.qualifies, decision.action) == (False, "open_new_case")
    assert decision.reasons[0] == CLOSED


def test_not_in_employment_follow_up_nothing_to_authorize() -> None:
    cancelled = case(event("EmploymentFollowUpCancelled", cancelled_on="2025-02-01", reason="retraining"))
    decision = evaluate_post_employment_service(request(), cancelled)
    assert (decision.qualifies, decision.action) == (False, "none")
    assert "cancelled on 2025-02-01 (Cancel EF)" in decision.reasons[1]


def test_maintain_without_a_current_job_points_to_regain() -> None:
    lost = case(event("EmploymentEnded", job_id="J1", end_date="2025-02-01", reason="laid off"))
    decision = evaluate_post_employment_service(request(), lost)
    assert (decision.qualifies, decision.action) == (False, "none")
    assert "job J1 ended on 2025-02-01" in decision.reasons[1]
    assert "regain" in decision.reasons[1]


@pytest.mark.parametrize(
    "purpose, answers, complaint",
    [
        ("regain", {}, "regain needs new_job_soc_code"),
        ("advance", {}, "advance needs same_career_pathway"),
        ("maintain", {"new_job_soc_code": "41-2011"}, "regain only"),
        ("regain", {"new_job_soc_code": "41-2011", "advancement_brings": ["pay"]}, "advance only"),
        ("regain", {"new_job_soc_code": "412011"}, "pattern"),
        ("maintain", {"advice": "x"}, "Extra inputs"),
        ("maintain", {"complex_or_comprehensive": "yes"}, "boolean"),
    ],
)
def test_missing_or_foreign_facts_of_the_purpose_are_refused(
    purpose: str, answers: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(ValidationError, match=complaint):
        request(purpose, **answers)


def test_reasons_quote_the_policy_text_word_for_word() -> None:
    if not POLICY_TEXT.exists():
        pytest.skip(f"the policy text is not beside this checkout ({POLICY_TEXT})")
    policy = POLICY_TEXT.read_text(encoding="utf-8").replace("\xa0", " ")
    from app.domain import pes_checklist

    quotes = [
        value
        for name, value in vars(pes_checklist).items()
        if name.isupper() and isinstance(value, str | tuple)
    ]
    for quote in quotes:
        for sentence in quote if isinstance(quote, tuple) else (quote,):
            assert sentence in policy, sentence
