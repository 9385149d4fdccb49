"""Business time over HTTP (issue 11): the measured cases, each as an integrator tried it.

`as_of` is the case as it stood on that business date: an event dated later had not
happened yet, whatever order it was recorded in. Rules that name a date (4.6 on
`reached_on`, 3.6 on `closed_on`) judge the case as it stood on that date.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.builders import (
    authorization,
    case_closed,
    employment_ended,
    ipe_amended,
    plan_signed,
    successful_placement,
)
from tests.integration.test_ledger_http import ledger, ok, pba, pba_case, pba_opened_case, refused


@pytest.fixture
def provider() -> str:
    return f"prov-{uuid.uuid4().hex[:10]}"


async def clock(api: Any, case_id: str, as_of: str) -> dict[str, Any]:
    r = await api.get(f"/cases/{case_id}/closure-clock", params={"as_of": as_of})
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_job_that_ended_later_was_current_and_eligible_as_of_an_earlier_date(api, case_id, provider):
    await pba_case(api, case_id, provider)  # job j1 from 2024-02-01, eligible 2024-05-15
    await ok(api, case_id, employment_ended("j1", "2024-07-01"))
    then = await clock(api, case_id, "2024-06-20")
    assert (then["status"], then["eligible_on"], then["blocking"]) == ("eligible", "2024-05-15", [])
    assert then["explanation"], "the answer says what set the clock start"
    assert (await clock(api, case_id, "2024-07-02"))["status"] == "not_employed"


async def test_successful_placement_reached_before_the_job_ended_is_earned(api, case_id, provider):
    """Reached 2024-06-20, claimed after the job ended 2024-07-01: the provider keeps $1,500."""
    await pba_case(api, case_id, provider)
    await ok(api, case_id, employment_ended("j1", "2024-07-01"))
    await ok(api, case_id, successful_placement("pba-1", "AS", "2024-06-20"))
    book = pba(await ledger(api, case_id), "pba-1")
    assert book["earned"] == "3800.00"
    assert book["milestones"][-1]["amount"] == "1500.00"


async def test_a_case_closed_later_reads_open_as_of_an_earlier_date(api, case_id, provider):
    await pba_case(api, case_id, provider)
    await ok(api, case_id, case_closed("2024-06-20"))
    assert (await clock(api, case_id, "2024-06-15"))["status"] == "eligible"
    closed = await clock(api, case_id, "2024-06-20")
    assert (closed["status"], closed["blocking"]) == ("closed", [])
    assert any("new case must be opened" in s for s in closed["explanation"])


async def test_a_closure_dated_before_a_recorded_job_end_is_judged_on_its_own_date(api, case_id, provider):
    await pba_case(api, case_id, provider)
    await ok(api, case_id, employment_ended("j1", "2024-07-01"))
    await ok(api, case_id, case_closed("2024-06-20"))


async def test_history_judges_each_event_on_its_own_business_date(api, case_id, provider):
    await pba_case(api, case_id, provider)
    r = await api.get(f"/cases/{case_id}/history", role="auditor")
    assert r.status_code == 200, r.text
    rows = {row["type"]: row for row in r.json()["events"]}
    started = rows["EmploymentStarted"]["clock"]
    assert started["as_of"] == "2024-02-01"
    # as it stood on 2024-02-01: the job hire's authorization (to 2024-03-31, not yet paid)
    # held the clock start; not "eligible", as a judgment made today would say
    assert started["after"]["status"] == "waiting"
    r = await api.get(f"/cases/{case_id}/history", params={"as_of": "2024-07-01"}, role="auditor")
    started = next(row for row in r.json()["events"] if row["type"] == "EmploymentStarted")["clock"]
    assert (started["as_of"], started["after"]["status"]) == ("2024-07-01", "eligible")


async def test_an_unflagged_service_after_the_outcome_needs_its_category_on_the_ipe(api, case_id, provider):
    await pba_case(api, case_id, provider)  # IPE: job_coaching; outcome 2024-02-01
    transport = authorization("T1", "2024-03-01", "2024-03-31", category="transport")
    body = await refused(api, case_id, transport, "pes_category_not_on_ipe")
    assert "post-employment service" in body["detail"] and "2024-02-01" in body["detail"]
    await ok(api, case_id, ipe_amended("2024-02-20", added=("transport",)))
    await ok(api, case_id, transport)


async def test_a_placement_plan_signed_by_the_three_parties_and_an_employer_is_earned(api, case_id, provider):
    await pba_opened_case(api, case_id, provider)
    signers = ("consumer", "provider", "vr_staff", "employer")
    await ok(api, case_id, plan_signed("pba-1", "AP", "2024-01-10", signed_by=signers))
    assert pba(await ledger(api, case_id), "pba-1")["earned"] == "1000.00"
