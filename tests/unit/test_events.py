"""Event schemas are strict about what the contract names, and older shapes upcast."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from app.events import EVENT_TYPES, parse_event
from app.events.registry import UnknownEventType, UnsupportedSchemaVersion

JOB = {
    "job_id": "j1",
    "start_date": "2024-02-01",
    "employer": "Acme",
    "soc_code": "35-2014",
    "hours_per_week": 30,
    "hourly_wage": "15.50",
}


def test_every_contract_event_type_is_registered_under_its_stable_name():
    assert set(EVENT_TYPES) == {
        "CaseOpened",
        "IPEAmended",
        "EmploymentStarted",
        "EmploymentEnded",
        "EmploymentFollowUpCancelled",
        "CaseClosed",
        "AuthorizationIssued",
        "AuthorizationPaid",
        "AuthorizationCancelled",
        "M4Ended",
        "PBAOpened",
        "PBAMilestoneReached",
        "PBAEnded",
        "EventRetracted",
        # retention (issue 13, item 3)
        "LegalHoldPlaced",
        "LegalHoldLifted",
        "CaseRecordsDestroyed",
    }
    assert all(name == model.TYPE for name, model in EVENT_TYPES.items())


@pytest.mark.parametrize("bad_date", ["2024-02-30", "2024-2-1", "20240201", 0, "2024-02-01T00:00:00"])
def test_business_dates_must_be_real_calendar_dates(bad_date):
    with pytest.raises(ValidationError):
        parse_event("EmploymentStarted", {**JOB, "start_date": bad_date})


@pytest.mark.parametrize("amount", ["12.345", "-1.00", 12.5, "1e3", "", "12,00"])
def test_amounts_are_non_negative_decimal_strings_with_cents(amount):
    base = {"authorization_id": "a1", "payment_date": "2024-03-01", "paid_in_full": True}
    with pytest.raises(ValidationError):
        parse_event("AuthorizationPaid", {**base, "amount": amount})
    assert parse_event("AuthorizationPaid", {**base, "amount": "12.5"}).amount == Decimal("12.50")


def test_soc_codes_enums_booleans_and_unknown_fields_are_exact():
    for bad in ({"soc_code": "352014"}, {"temporary": "true"}, {"surprise": 1}):
        with pytest.raises(ValidationError):
            parse_event("EmploymentStarted", {**JOB, **bad})
    with pytest.raises(ValidationError):
        parse_event("CaseClosed", {"closed_on": "2024-05-01", "outcome": "Successful"})


def test_an_authorization_cannot_end_before_it_starts():
    with pytest.raises(ValidationError, match="end_date"):
        parse_event(
            "AuthorizationIssued",
            {
                "authorization_id": "a1",
                "provider_id": "p1",
                "service_category": "job_coaching",
                "start_date": "2024-03-02",
                "end_date": "2024-03-01",
                "amount": "10.00",
            },
        )


def test_milestone_evidence_must_belong_to_the_milestone():
    claim = {
        "pba_id": "pba1",
        "milestone": "placement_plan_signed",
        "reached_on": "2024-03-01",
        "authorization_id": "a1",
        "signed_by": ["consumer"],
        "face_to_face": True,
    }
    assert parse_event("PBAMilestoneReached", claim).signed_by == ["consumer"]
    with pytest.raises(ValidationError, match="not evidence"):
        parse_event("PBAMilestoneReached", {**claim, "placement_type": "individual"})
    with pytest.raises(ValidationError, match="needs evidence"):
        parse_event("PBAMilestoneReached", {**claim, "milestone": "job_hire"})


def test_employment_started_v1_with_wage_in_cents_upcasts_to_v2():
    v1 = {k: v for k, v in JOB.items() if k != "hourly_wage"} | {"hourly_wage_cents": 1550}
    event = parse_event("EmploymentStarted", v1, schema_version=1)
    assert event.hourly_wage == Decimal("15.50")
    assert event.to_json_dict()["hourly_wage"] == "15.50"
    assert event.SCHEMA_VERSION == 2


def test_unknown_types_and_future_schema_versions_are_refused():
    with pytest.raises(UnknownEventType):
        parse_event("CaseReopened", {})
    with pytest.raises(UnsupportedSchemaVersion):
        parse_event("EmploymentStarted", JOB, schema_version=3)
