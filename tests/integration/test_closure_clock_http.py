"""The closure clock over HTTP (contract section 3): what a counselor sees on GET closure-clock.

Every scenario appends through POST /cases/{id}/events on real PostgreSQL and reads the
clock back as the case system would; dates are explicit (`as_of`), never "today".
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from app.store.db import create_pool
from tests.builders import (
    authorization,
    cancelled,
    case_closed,
    case_opened,
    employment_ended,
    employment_started,
    follow_up_cancelled,
    ipe_amended,
    m4_ended,
    paid,
    retracted,
)
from tests.conftest import make_api

# --- helpers -------------------------------------------------------------------------------------


async def ok(api: Any, case_id: str, *events: dict[str, Any]) -> list[str]:
    """Append; assert 201; return the new events' ids."""
    r = await api.append(case_id, *events)
    assert r.status_code == 201, r.text
    return [e["event_id"] for e in r.json()["events"]]


async def refused(
    api: Any, case_id: str, event: dict[str, Any], rule: str, status: int = 409
) -> dict[str, Any]:
    """Append; assert the refusal and that nothing was stored; return the problem body."""
    before = await version_of(api, case_id)
    r = await api.append(case_id, event)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["rule"] == rule, body
    if status == 409:
        assert body["code"] == "rule_violation"
    assert await version_of(api, case_id) == before
    return body


async def version_of(api: Any, case_id: str) -> int:
    r = await api.get(f"/cases/{case_id}/events")
    if r.status_code == 404:
        return 0
    return len(r.json()["events"])


async def clock(api: Any, case_id: str, as_of: str, **params: Any) -> dict[str, Any]:
    r = await api.get(f"/cases/{case_id}/closure-clock", params={"as_of": as_of, **params})
    assert r.status_code == 200, r.text
    return r.json()


async def opened_with_job(api: Any, case_id: str, start: str = "2024-02-01", **job: Any) -> str:
    """CaseOpened plus the employment outcome; returns the EmploymentStarted event id."""
    ids = await ok(api, case_id, case_opened(), employment_started("j1", start, **job))
    return ids[1]


# --- where the answer comes from ------------------------------------------------------------------


async def test_a_row_written_before_the_stored_explanation_is_answered_by_folding(api, owner_pool, case_id):
    """Rows of a database migrated from 0001 have no explanation until the case's next
    append or a rebuild: GET closure-clock then folds the case and says the same."""
    await opened_with_job(api, case_id, "2024-02-01")
    await ok(api, case_id, authorization("a1", "2024-02-10", "2024-03-20", post_employment=True))
    from_row = [await clock(api, case_id, d) for d in ("2024-01-15", "2024-04-01", "2024-07-01")]
    async with owner_pool.acquire() as conn:
        await conn.execute("UPDATE closure_clock SET explanation = NULL WHERE case_id = $1", case_id)
    folded = [await clock(api, case_id, d) for d in ("2024-01-15", "2024-04-01", "2024-07-01")]
    assert folded == from_row
    # business time: on 2024-01-15 the job (2024-02-01) had not started yet
    assert [c["status"] for c in folded] == ["not_employed", "running", "eligible"]
    assert folded[1]["clock_start_rule"] == "b_authorization_not_paid_in_full"


# --- 3.1 rules (a), (b), (c) ---------------------------------------------------------------------


async def test_employment_outcome_alone_starts_the_clock_and_the_answer_explains_itself(api, case_id):
    outcome = await opened_with_job(api, case_id, "2024-02-01")
    c = await clock(api, case_id, "2024-03-01")
    assert c["status"] == "running"
    assert c["clock_start"] == "2024-02-01"
    assert c["clock_start_rule"] == "a_employment_outcome"
    assert c["clock_start_event_id"] == outcome
    assert c["eligible_on"] == "2024-05-01"
    assert c["days_remaining"] == 61
    assert c["version"] == 2
    assert any("j1" in s for s in c["explanation"]) and c["blocking"] == [
        "Eligible for closure on 2024-05-01 (61 days remain)."
    ]
    assert (await clock(api, case_id, "2024-05-01"))["status"] == "eligible"
    assert (await clock(api, case_id, "2024-05-01"))["blocking"] == []
    assert (await clock(api, case_id, "2024-04-30"))["status"] == "running"
    before_the_job = await clock(api, case_id, "2024-01-15")
    assert before_the_job["status"] == "not_employed"  # the job had not started yet


async def test_partial_payments_leave_the_end_date_then_paid_in_full_moves_to_the_payment(api, case_id):
    await opened_with_job(api, case_id, "2024-02-01")
    [issued] = await ok(api, case_id, authorization("A1", "2024-02-05", "2024-03-31"))
    await ok(
        api,
        case_id,
        paid("A1", "2024-03-01", "100.00", in_full=False),
        paid("A1", "2024-03-20", "150.00", in_full=False),
    )
    c = await clock(api, case_id, "2024-04-01")
    assert (c["clock_start"], c["clock_start_rule"]) == (
        "2024-03-31",
        "b_authorization_not_paid_in_full",
    )
    assert c["clock_start_event_id"] == issued
    assert c["eligible_on"] == "2024-06-29"
    assert any("A1" in s and "not paid in full" in s for s in c["explanation"]), c["explanation"]

    [final] = await ok(api, case_id, paid("A1", "2024-04-15", "250.00", in_full=True))
    c = await clock(api, case_id, "2024-05-01")
    assert (c["clock_start"], c["clock_start_rule"]) == (
        "2024-04-15",
        "c_authorization_paid_in_full",
    )
    assert c["clock_start_event_id"] == final
    assert c["eligible_on"] == "2024-07-14"
    assert any("A1" in s and "paid in full" in s for s in c["explanation"]), c["explanation"]


async def test_paid_in_full_before_its_end_date_counts_from_the_payment_not_the_end(api, case_id):
    await opened_with_job(api, case_id, "2024-02-01")
    await ok(api, case_id, authorization("A1", "2024-02-05", "2024-06-30"))
    assert (await clock(api, case_id, "2024-03-01"))["clock_start"] == "2024-06-30"
    [payment] = await ok(api, case_id, paid("A1", "2024-03-10"))
    c = await clock(api, case_id, "2024-03-11")
    assert (c["clock_start"], c["clock_start_rule"], c["clock_start_event_id"]) == (
        "2024-03-10",
        "c_authorization_paid_in_full",
        payment,
    )
    assert c["eligible_on"] == "2024-06-08"


async def test_cancelled_authorization_without_payments_stops_holding_the_clock(api, case_id):
    outcome = await opened_with_job(api, case_id, "2024-02-01")
    await ok(api, case_id, authorization("A1", "2024-02-05", "2024-06-30"))
    assert (await clock(api, case_id, "2024-03-01"))["clock_start"] == "2024-06-30"
    await ok(api, case_id, cancelled("A1", "2024-03-01"))
    c = await clock(api, case_id, "2024-03-02")
    assert (c["clock_start"], c["clock_start_rule"], c["clock_start_event_id"]) == (
        "2024-02-01",
        "a_employment_outcome",
        outcome,
    )
    assert c["eligible_on"] == "2024-05-01"
    assert not any("A1" in s for s in c["blocking"])


async def test_cancelled_authorization_with_payments_counts_at_its_latest_payment(api, case_id):
    await opened_with_job(api, case_id, "2024-02-01")
    await ok(api, case_id, authorization("A1", "2024-02-05", "2024-06-30"))
    [_, latest] = await ok(
        api,
        case_id,
        paid("A1", "2024-02-20", "100.00", in_full=False),
        paid("A1", "2024-03-15", "100.00", in_full=False),
    )
    await ok(api, case_id, cancelled("A1", "2024-03-20"))
    c = await clock(api, case_id, "2024-04-01")
    assert (c["clock_start"], c["clock_start_rule"], c["clock_start_event_id"]) == (
        "2024-03-15",
        "c_authorization_paid_in_full",
        latest,
    )
    assert c["eligible_on"] == "2024-06-13"
    assert any("A1" in s and "cancelled" in s for s in c["explanation"]), c["explanation"]
    # a late invoice of the cancelled authorization is paid and counts at its date (3.3)
    [late] = await ok(api, case_id, paid("A1", "2024-03-25"))
    c = await clock(api, case_id, "2024-04-01")
    assert (c["clock_start"], c["clock_start_event_id"]) == ("2024-03-25", late)
    # still refused: an unknown authorization, and a payment before the service started
    await refused(api, case_id, paid("A9", "2024-03-25"), "authorization_unknown")
    await refused(api, case_id, paid("A1", "2024-02-01"), "payment_before_authorization_start")


# --- 3.3 post-employment services restart the clock ----------------------------------------------


async def test_post_employment_authorization_after_the_outcome_restarts_the_clock(api, case_id):
    await opened_with_job(api, case_id, "2024-02-01")
    before = await clock(api, case_id, "2024-04-01")
    assert (before["clock_start"], before["eligible_on"]) == ("2024-02-01", "2024-05-01")
    [pes] = await ok(api, case_id, authorization("PES1", "2024-04-01", "2024-04-30", post_employment=True))
    c = await clock(api, case_id, "2024-04-15")
    assert (c["clock_start"], c["clock_start_rule"], c["clock_start_event_id"]) == (
        "2024-04-30",
        "b_authorization_not_paid_in_full",
        pes,
    )
    assert c["eligible_on"] == "2024-07-29" and c["status"] == "waiting"
    # the day the old clock would have made it eligible, it is not
    assert (await clock(api, case_id, "2024-05-01"))["status"] == "running"
    await ok(api, case_id, paid("PES1", "2024-05-10"))
    c = await clock(api, case_id, "2024-05-11")
    assert (c["clock_start"], c["eligible_on"]) == ("2024-05-10", "2024-08-08")


# --- 3.2 supported employment --------------------------------------------------------------------


async def test_supported_employment_awaits_m4_then_m4_ended_then_a_later_payment_wins(api, case_id):
    await ok(
        api,
        case_id,
        case_opened(se=True),
        employment_started("j1", "2024-02-01"),
        authorization("M4", "2024-02-01", "2024-05-31", m4=True),
    )
    c = await clock(api, case_id, "2024-05-01")
    assert c["status"] == "awaiting_m4"
    assert (c["clock_start"], c["eligible_on"], c["days_remaining"]) == (None, None, None)
    assert any("M4Ended" in s for s in c["blocking"]), c["blocking"]
    # eligible never comes without M4Ended, however long the wait
    assert (await clock(api, case_id, "2025-06-01"))["status"] == "awaiting_m4"

    await ok(api, case_id, paid("M4", "2024-05-10", "2000.00"))
    [m4] = await ok(api, case_id, m4_ended("2024-05-15", authorization_id="M4"))
    c = await clock(api, case_id, "2024-05-20")
    assert (c["status"], c["clock_start"], c["clock_start_rule"], c["clock_start_event_id"]) == (
        "running",
        "2024-05-15",
        "m4_ended",
        m4,
    )
    assert c["eligible_on"] == "2024-08-13"

    await ok(api, case_id, authorization("A2", "2024-05-01", "2024-05-20", post_employment=True))
    [later] = await ok(api, case_id, paid("A2", "2024-06-01"))
    c = await clock(api, case_id, "2024-06-02")
    assert (c["clock_start"], c["clock_start_rule"], c["clock_start_event_id"]) == (
        "2024-06-01",
        "c_authorization_paid_in_full",
        later,
    )
    assert c["eligible_on"] == "2024-08-30"


async def test_m4_ended_on_a_case_that_is_not_supported_employment_is_refused(api, case_id):
    await opened_with_job(api, case_id)
    await refused(api, case_id, m4_ended("2024-03-01"), "m4_ended_not_supported_employment")


# --- 3.4 employment must continue ----------------------------------------------------------------


async def test_job_loss_makes_the_case_not_employed_and_a_new_job_restarts_the_clock(api, case_id):
    await opened_with_job(api, case_id, "2024-02-01")
    await ok(api, case_id, employment_ended("j1", "2024-03-01"))
    c = await clock(api, case_id, "2024-06-01")
    assert c["status"] == "not_employed"
    assert (c["clock_start"], c["eligible_on"], c["days_remaining"]) == (None, None, None)
    assert any("j1" in s and "2024-03-01" in s for s in c["blocking"]), c["blocking"]
    assert c["explanation"] == c["blocking"]
    [j2] = await ok(api, case_id, employment_started("j2", "2024-03-10", soc="41-2031"))
    c = await clock(api, case_id, "2024-04-01")
    assert (c["status"], c["clock_start"], c["clock_start_event_id"]) == (
        "running",
        "2024-03-10",
        j2,
    )
    assert c["eligible_on"] == "2024-06-08"


async def test_continuity_in_the_same_soc_keeps_the_outcome_date(api, case_id):
    outcome = await opened_with_job(api, case_id, "2024-02-01", soc="35-2014")
    await ok(
        api,
        case_id,
        employment_ended("j1", "2024-03-01"),
        employment_started("j2", "2024-03-04", soc="35-2014", continuous_with_job_id="j1"),
    )
    c = await clock(api, case_id, "2024-04-01")
    assert (c["status"], c["clock_start"], c["clock_start_rule"], c["clock_start_event_id"]) == (
        "running",
        "2024-02-01",
        "a_employment_outcome",
        outcome,
    )
    assert c["eligible_on"] == "2024-05-01"


async def test_continuity_across_soc_codes_is_refused(api, case_id):
    await opened_with_job(api, case_id, "2024-02-01", soc="35-2014")
    await ok(api, case_id, employment_ended("j1", "2024-03-01"))
    body = await refused(
        api,
        case_id,
        employment_started("j2", "2024-03-04", soc="41-2031", continuous_with_job_id="j1"),
        "continuity_soc_mismatch",
    )
    assert "35-2014" in body["detail"] and "41-2031" in body["detail"]
    assert body["event_index"] == 0 and body["event_type"] == "EmploymentStarted"
    assert (await clock(api, case_id, "2024-04-01"))["status"] == "not_employed"


async def test_continuity_naming_an_unknown_job_is_refused(api, case_id):
    await opened_with_job(api, case_id, "2024-02-01")
    await refused(
        api,
        case_id,
        employment_started("j2", "2024-03-04", continuous_with_job_id="nope"),
        "continuity_job_unknown",
    )


# --- Cancel EF -----------------------------------------------------------------------------------


async def test_cancel_ef_stops_the_clock_and_a_later_job_re_enters_follow_up(api, case_id):
    await opened_with_job(api, case_id, "2024-02-01")
    await ok(api, case_id, follow_up_cancelled("2024-03-01"))
    c = await clock(api, case_id, "2024-06-01")
    assert (c["status"], c["clock_start"], c["eligible_on"]) == ("follow_up_cancelled", None, None)
    assert any("Cancel EF" in s and "2024-03-01" in s for s in c["blocking"]), c["blocking"]
    # a successful closure is not possible outside follow-up
    await refused(api, case_id, case_closed("2024-06-01"), "not_eligible_for_closure")
    await refused(api, case_id, follow_up_cancelled("2024-03-02"), "cancel_ef_not_in_employment_follow_up")
    # nor can a continuity claim keep an outcome date that Cancel EF ended
    await refused(
        api,
        case_id,
        employment_started("j2", "2024-06-01", continuous_with_job_id="j1"),
        "continuity_after_cancel_ef",
    )
    [j2] = await ok(api, case_id, employment_started("j2", "2024-06-01"))
    c = await clock(api, case_id, "2024-06-10")
    assert (c["status"], c["clock_start"], c["clock_start_event_id"], c["eligible_on"]) == (
        "running",
        "2024-06-01",
        j2,
        "2024-08-30",
    )


# --- 3.6 closure ---------------------------------------------------------------------------------


async def test_successful_closure_is_refused_the_day_before_eligible_and_accepted_on_it(api, case_id):
    await opened_with_job(api, case_id, "2024-02-01")
    await ok(api, case_id, authorization("A1", "2024-02-05", "2024-03-31"))  # eligible 2024-06-29
    body = await refused(api, case_id, case_closed("2024-06-28"), "not_eligible_for_closure")
    assert "2024-06-29" in body["detail"]
    # an unsuccessful closure needs no clock
    other = f"{case_id}-u"
    await opened_with_job(api, other, "2024-02-01")
    await ok(api, other, case_closed("2024-02-10", outcome="unsuccessful", reason="moved away"))

    await ok(api, case_id, case_closed("2024-06-29"))
    c = await clock(api, case_id, "2024-07-01")
    assert c["status"] == "closed" and c["days_remaining"] is None
    assert c["blocking"] == []  # nothing blocks a closed case; its explanation says why
    assert any("new case must be opened" in s for s in c["explanation"]), c["explanation"]


async def test_after_closure_no_service_or_employment_but_earlier_payments_are_accepted(api, case_id):
    await opened_with_job(api, case_id, "2024-02-01")
    await ok(api, case_id, authorization("A1", "2024-02-05", "2024-03-31"))
    await ok(api, case_id, case_closed("2024-06-29"))
    for event in (
        authorization("PES9", "2024-07-01", "2024-07-31", post_employment=True),
        employment_started("j2", "2024-07-01"),
        case_closed("2024-07-02"),
    ):
        body = await refused(api, case_id, event, "case_closed")
        assert "new case must be opened" in body["detail"], body
    await ok(api, case_id, paid("A1", "2024-07-05"))
    assert (await clock(api, case_id, "2024-07-10"))["status"] == "closed"


async def test_a_payment_after_closure_does_not_move_the_closed_clock(api, case_id):
    await opened_with_job(api, case_id, "2024-02-01")
    await ok(api, case_id, authorization("A1", "2024-02-05", "2024-03-31"))
    await ok(api, case_id, case_closed("2024-06-29"))
    closed = await clock(api, case_id, "2024-07-10")
    await ok(api, case_id, paid("A1", "2024-07-05"))
    after = await clock(api, case_id, "2024-07-10")
    assert (
        (after["clock_start"], after["eligible_on"])
        == (closed["clock_start"], closed["eligible_on"])
        == ("2024-03-31", "2024-06-29")
    )


# --- 3.7 a post-employment service in a category not on the IPE ----------------------------------


async def test_post_employment_category_not_on_the_ipe_needs_an_amendment_first(api, case_id):
    await opened_with_job(api, case_id, "2024-02-01")  # IPE: job_coaching
    pes = authorization("T1", "2024-04-01", "2024-04-30", category="transportation", post_employment=True)
    body = await refused(api, case_id, pes, "pes_category_not_on_ipe")
    assert "transportation" in body["detail"] and "IPEAmended" in body["detail"]
    # the same category without the post-employment flag is not a post-employment service (3.7)
    await ok(api, case_id, ipe_amended("2024-03-25", added=("transportation",)))
    [t1] = await ok(api, case_id, pes)
    c = await clock(api, case_id, "2024-04-02")
    assert (c["clock_start"], c["clock_start_event_id"]) == ("2024-04-30", t1)


# --- corrections ---------------------------------------------------------------------------------


async def test_retracting_a_wrong_payment_restores_the_earlier_clock(api, case_id):
    await opened_with_job(api, case_id, "2024-02-01")
    [issued] = await ok(api, case_id, authorization("A1", "2024-02-05", "2024-03-31"))
    [wrong] = await ok(api, case_id, paid("A1", "2024-05-20"))
    assert (await clock(api, case_id, "2024-06-01"))["clock_start"] == "2024-05-20"
    await ok(api, case_id, retracted(wrong, reason="payment keyed on the wrong authorization"))
    c = await clock(api, case_id, "2024-06-01")
    assert (
        c["clock_start"],
        c["clock_start_rule"],
        c["clock_start_event_id"],
        c["eligible_on"],
    ) == ("2024-03-31", "b_authorization_not_paid_in_full", issued, "2024-06-29")
    assert c["version"] == 5
    # the retracted event stays in the log
    events = (await api.get(f"/cases/{case_id}/events")).json()["events"]
    assert [e["type"] for e in events][-2:] == ["AuthorizationPaid", "EventRetracted"]
    # and it cannot be retracted twice
    await refused(api, case_id, retracted(wrong), "already_retracted")


async def test_retraction_refusals(api, case_id):
    await opened_with_job(api, case_id, "2024-02-01")
    [issued] = await ok(api, case_id, authorization("A1", "2024-02-05", "2024-03-31"))
    [retraction] = await ok(api, case_id, retracted(issued))
    other = f"{case_id}-other"
    [_, foreign_job] = await ok(api, other, case_opened(), employment_started())

    unknown = await refused(api, case_id, retracted(uuid.uuid4()), "retraction_target_not_in_case")
    assert "not an event of this case" in unknown["detail"]
    await refused(api, case_id, retracted(foreign_job), "retraction_target_not_in_case")
    await refused(api, case_id, retracted(retraction), "retraction_of_retraction")
    case_opened_id = (await api.get(f"/cases/{case_id}/events")).json()["events"][0]["event_id"]
    await refused(api, case_id, retracted(case_opened_id), "case_opened_not_retractable")
    # the other case is untouched
    assert (await clock(api, other, "2024-03-01"))["clock_start"] == "2024-02-01"


# --- known_at: what was known then ---------------------------------------------------------------


async def test_known_at_replays_the_clock_as_it_was_known_at_an_earlier_time(api, case_id):
    outcome = await opened_with_job(api, case_id, "2024-02-01")
    await ok(api, case_id, authorization("A1", "2024-02-05", "2024-03-31"))
    [payment] = await ok(api, case_id, paid("A1", "2024-04-10"))
    events = (await api.get(f"/cases/{case_id}/events")).json()["events"]
    recorded = [e["recorded_at"] for e in events]  # one append per time; the first held two events
    assert recorded[0] == recorded[1] < recorded[2] < recorded[3]

    then = await clock(api, case_id, "2024-04-15", known_at=recorded[1])
    assert (then["clock_start"], then["clock_start_event_id"], then["version"]) == (
        "2024-02-01",
        outcome,
        2,
    )
    then = await clock(api, case_id, "2024-04-15", known_at=recorded[2])
    assert (then["clock_start"], then["clock_start_rule"], then["version"]) == (
        "2024-03-31",
        "b_authorization_not_paid_in_full",
        3,
    )
    now = await clock(api, case_id, "2024-04-15")
    assert (now["clock_start"], now["clock_start_event_id"], now["version"]) == (
        "2024-04-10",
        payment,
        4,
    )
    # before the case existed, there was no case
    r = await api.get(
        f"/cases/{case_id}/closure-clock",
        params={"as_of": "2024-04-15", "known_at": "2000-01-01T00:00:00Z"},
    )
    assert r.status_code == 404 and r.json()["code"] == "case_not_found"


async def test_known_at_does_not_see_a_later_retraction(api, case_id):
    await opened_with_job(api, case_id, "2024-02-01")
    [_, payment] = await ok(
        api, case_id, authorization("A1", "2024-02-05", "2024-03-31"), paid("A1", "2024-05-20")
    )
    await ok(api, case_id, retracted(payment))
    events = (await api.get(f"/cases/{case_id}/events")).json()["events"]
    before_retraction = events[-2]["recorded_at"]
    then = await clock(api, case_id, "2024-06-01", known_at=before_retraction)
    assert then["clock_start"] == "2024-05-20"
    assert (await clock(api, case_id, "2024-06-01"))["clock_start"] == "2024-03-31"


async def test_unknown_case_is_404_on_the_clock(api, case_id):
    r = await api.get(f"/cases/{case_id}/closure-clock", params={"as_of": "2024-01-01"})
    assert r.status_code == 404 and r.json()["code"] == "case_not_found"
    assert r.headers["content-type"].startswith("application/problem+json")


# --- the worklist --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def isolated(databases):
    """A database of its own, so the worklist holds exactly the cases this module puts in."""
    url = await databases.create()
    pool = await create_pool(url, min_size=1, max_size=5)
    try:
        async for api in make_api(url, pool):
            yield api
    finally:
        await pool.close()


WORKLIST_AS_OF = "2024-06-30"


@pytest.fixture(scope="module")
async def worklist_cases(isolated):
    """case -> (expected status on WORKLIST_AS_OF, eligible_on)."""
    api = isolated
    cases = {
        "wl-a": ([case_opened(), employment_started("j1", "2024-01-10")], "eligible", "2024-04-09"),
        "wl-b": ([case_opened(), employment_started("j1", "2024-01-01")], "eligible", "2024-03-31"),
        "wl-c": ([case_opened(), employment_started("j1", "2024-02-01")], "eligible", "2024-05-01"),
        "wl-d": ([case_opened(), employment_started("j1", "2024-06-01")], "running", "2024-08-30"),
        "wl-e": ([case_opened()], "not_employed", None),
        "wl-f": (
            [case_opened(se=True), employment_started("j1", "2024-02-01")],
            "awaiting_m4",
            None,
        ),
        "wl-g": ([case_opened(), employment_started("j1", "2024-07-15")], "waiting", "2024-10-13"),
        "wl-h": (
            [
                case_opened(),
                employment_started("j1", "2024-01-05"),
                authorization("A1", "2024-01-05", "2024-01-31"),
                case_closed("2024-05-01"),
            ],
            "closed",
            "2024-04-30",
        ),
        "wl-i": (
            [
                case_opened(),
                employment_started("j1", "2024-01-20"),
                follow_up_cancelled("2024-02-01"),
            ],
            "follow_up_cancelled",
            None,
        ),
    }
    for case, (events, _, _) in cases.items():
        await ok(api, case, *events)
    return {case: (status, eligible) for case, (_, status, eligible) in cases.items()}


async def _worklist(api: Any, **params: Any) -> dict[str, Any]:
    r = await api.get("/closure-clock/worklist", params={"as_of": WORKLIST_AS_OF, **params})
    assert r.status_code == 200, r.text
    return r.json()


async def test_worklist_lists_exactly_the_eligible_cases_by_eligible_date(isolated, worklist_cases):
    page = await _worklist(isolated, status="eligible")
    assert [i["case_id"] for i in page["items"]] == ["wl-b", "wl-a", "wl-c"]
    assert [i["eligible_on"] for i in page["items"]] == ["2024-03-31", "2024-04-09", "2024-05-01"]
    assert all(i["status"] == "eligible" and i["days_remaining"] == 0 for i in page["items"])
    assert page["next_cursor"] is None and page["as_of"] == WORKLIST_AS_OF


async def test_worklist_eligible_by_filters_on_the_eligible_date(isolated, worklist_cases):
    page = await _worklist(isolated, status="eligible", eligible_by="2024-04-09")
    assert [i["case_id"] for i in page["items"]] == ["wl-b", "wl-a"]
    # without a status: every case whose eligible date is by then (the closed one too)
    page = await _worklist(isolated, eligible_by="2024-08-30")
    assert [i["case_id"] for i in page["items"]] == ["wl-b", "wl-a", "wl-h", "wl-c", "wl-d"]


@pytest.mark.parametrize(
    "status", ["running", "waiting", "not_employed", "awaiting_m4", "closed", "follow_up_cancelled"]
)
async def test_worklist_by_each_other_status(isolated, worklist_cases, status):
    page = await _worklist(isolated, status=status)
    expected = sorted((c for c, (s, _) in worklist_cases.items() if s == status))
    assert [i["case_id"] for i in page["items"]] == expected
    assert all(i["status"] == status for i in page["items"])


async def test_worklist_rows_agree_with_each_case_clock(isolated, worklist_cases):
    page = await _worklist(isolated)
    for item in page["items"]:
        c = await clock(isolated, item["case_id"], WORKLIST_AS_OF)
        if item["case_id"] == "wl-g":
            # The worklist ranks the clock as recorded; as of 2024-06-30 the job that
            # starts 2024-07-15 had not started yet, so the case read as of then is not
            # employed (business time), while the worklist shows when it will be eligible.
            assert c["status"] == "not_employed"
            continue
        for key in ("status", "clock_start", "eligible_on", "days_remaining"):
            assert item[key] == c[key], (item, c)
        assert (item["status"], item["eligible_on"]) == worklist_cases[item["case_id"]]


async def test_worklist_paging_walks_every_case_once(isolated, worklist_cases):
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = await _worklist(isolated, **params)
        pages += 1
        assert len(page["items"]) <= 2
        seen += [i["case_id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert pages < 20
    assert sorted(seen) == sorted(worklist_cases) and len(seen) == len(set(seen))
    dated = [c for c in seen if worklist_cases[c][1] is not None]
    assert [worklist_cases[c][1] for c in dated] == sorted(worklist_cases[c][1] for c in dated)
    assert seen[: len(dated)] == dated, "cases without an eligible date come last"
    # eligible paging with limit 1 gives the same order as one page
    walked, cursor = [], None
    while True:
        page = await _worklist(isolated, status="eligible", limit=1, **({"cursor": cursor} if cursor else {}))
        walked += [i["case_id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert walked == ["wl-b", "wl-a", "wl-c"]


async def test_worklist_refuses_a_cursor_it_did_not_give_and_a_bad_status(isolated, worklist_cases):
    r = await isolated.get("/closure-clock/worklist", params={"cursor": "garbage"})
    assert r.status_code == 422 and r.json()["code"] == "invalid_request"
    r = await isolated.get("/closure-clock/worklist", params={"status": "sleeping"})
    assert r.status_code == 422 and r.json()["code"] == "invalid_request"


async def test_worklist_needs_a_reader_key(isolated, worklist_cases):
    assert (await isolated.get("/closure-clock/worklist", role="auditor")).status_code == 200
    r = await isolated.client.get("/closure-clock/worklist")
    assert r.status_code == 401


# --- post-employment services: decision support --------------------------------------------------


async def _evaluate(api: Any, case_id: str, body: dict[str, Any]) -> httpx.Response:
    return await api.post(f"/cases/{case_id}/post-employment-services/evaluate", body)


async def test_evaluate_maintain_regain_advance_answers_and_records_nothing(api, case_id):
    await opened_with_job(api, case_id, "2024-02-01", soc="35-2014")
    before = await clock(api, case_id, "2024-03-01")

    maintain = await _evaluate(
        api,
        case_id,
        {
            "purpose": "maintain",
            "service_category": "job_coaching",
            "complex_or_comprehensive": False,
            "beyond_current_job_scope": False,
        },
    )
    assert maintain.status_code == 200, maintain.text
    m = maintain.json()
    assert (m["qualifies"], m["amendment_required"], m["action"]) == (
        True,
        False,
        "authorize_post_employment_service",
    )
    assert any("amendment is not required" in r for r in m["reasons"])

    new_category = await _evaluate(
        api,
        case_id,
        {
            "purpose": "maintain",
            "service_category": "assistive_technology",
            "complex_or_comprehensive": False,
            "beyond_current_job_scope": False,
        },
    )
    n = new_category.json()
    assert (n["qualifies"], n["amendment_required"], n["action"]) == (
        True,
        True,
        "authorize_post_employment_service",
    )

    complex_ = (
        await _evaluate(
            api,
            case_id,
            {
                "purpose": "maintain",
                "service_category": "job_coaching",
                "complex_or_comprehensive": True,
                "beyond_current_job_scope": False,
            },
        )
    ).json()
    assert (complex_["qualifies"], complex_["action"]) == (False, "cancel_employment_follow_up")

    regain_other_soc = (
        await _evaluate(
            api,
            case_id,
            {
                "purpose": "regain",
                "service_category": "job_placement",
                "new_job_soc_code": "41-2031",
                "complex_or_comprehensive": False,
                "beyond_current_job_scope": False,
            },
        )
    ).json()
    assert (regain_other_soc["qualifies"], regain_other_soc["action"]) == (
        False,
        "cancel_employment_follow_up",
    )
    assert any("SOC" in r for r in regain_other_soc["reasons"])
    regain_same_soc = (
        await _evaluate(
            api,
            case_id,
            {
                "purpose": "regain",
                "service_category": "job_coaching",
                "new_job_soc_code": "35-2014",
                "complex_or_comprehensive": False,
                "beyond_current_job_scope": False,
            },
        )
    ).json()
    assert (regain_same_soc["qualifies"], regain_same_soc["amendment_required"]) == (True, False)

    advance = (
        await _evaluate(
            api,
            case_id,
            {
                "purpose": "advance",
                "service_category": "training",
                "same_career_pathway": True,
                "advancement_brings": ["pay", "promotion"],
                "complex_or_comprehensive": False,
                "beyond_current_job_scope": False,
            },
        )
    ).json()
    assert (advance["qualifies"], advance["amendment_required"], advance["action"]) == (
        True,
        True,
        "authorize_post_employment_service",
    )
    advance_other_path = (
        await _evaluate(
            api,
            case_id,
            {
                "purpose": "advance",
                "service_category": "training",
                "same_career_pathway": False,
                "complex_or_comprehensive": False,
                "beyond_current_job_scope": False,
            },
        )
    ).json()
    assert (advance_other_path["qualifies"], advance_other_path["action"]) == (
        False,
        "cancel_employment_follow_up",
    )

    after = await clock(api, case_id, "2024-03-01")
    assert after == before and after["version"] == 2
    assert len((await api.get(f"/cases/{case_id}/events")).json()["events"]) == 2


async def test_evaluate_after_closure_says_open_a_new_case(api, case_id):
    await opened_with_job(api, case_id, "2024-02-01")
    await ok(api, case_id, case_closed("2024-05-01"))
    d = (
        await _evaluate(
            api,
            case_id,
            {
                "purpose": "maintain",
                "service_category": "job_coaching",
                "complex_or_comprehensive": False,
                "beyond_current_job_scope": False,
            },
        )
    ).json()
    assert (d["qualifies"], d["action"]) == (False, "open_new_case")
    assert any("new case" in r for r in d["reasons"])


async def test_evaluate_refuses_an_incomplete_question_and_an_unknown_case(api, case_id):
    r = await _evaluate(
        api,
        case_id,
        {
            "purpose": "maintain",
            "service_category": "job_coaching",
            "complex_or_comprehensive": False,
            "beyond_current_job_scope": False,
        },
    )
    assert r.status_code == 404 and r.json()["code"] == "case_not_found"
    await opened_with_job(api, case_id)
    r = await _evaluate(
        api,
        case_id,
        {
            "purpose": "regain",
            "service_category": "job_coaching",
            "complex_or_comprehensive": False,
            "beyond_current_job_scope": False,
        },
    )
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_a_bad_evaluate_body_is_invalid_request_not_invalid_event(api, case_id):
    await opened_with_job(api, case_id)
    r = await _evaluate(
        api,
        case_id,
        {
            "purpose": "keep",
            "service_category": "job_coaching",
            "complex_or_comprehensive": False,
            "beyond_current_job_scope": False,
        },
    )
    assert (r.status_code, r.json()["code"]) == (422, "invalid_request")
