"""The PBA payment ledger over HTTP (contract section 4), as providers, counselors and auditors
read it.

Dates of the standard case (`pba_case`): PBA opened 2024-01-05, plan signed 2024-01-10 and paid
2024-01-20, job j1 from 2024-02-01, job hire 2024-02-02 paid 2024-02-15. The closure clock then
starts on 2024-02-15 (the hire authorization paid in full) and is eligible on 2024-05-15.
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import pytest

from tests.builders import (
    case_opened,
    employment_ended,
    employment_started,
    ev,
    ipe_amended,
    job_hire,
    milestone_authorization,
    paid,
    pba_ended,
    pba_opened,
    plan_signed,
    successful_placement,
)

ELIGIBLE_ON = "2024-05-15"


# --- helpers -------------------------------------------------------------------------------------


@pytest.fixture
def provider() -> str:
    return f"prov-{uuid.uuid4().hex[:10]}"


async def ok(api: Any, case_id: str, *events: dict[str, Any], role: str = "case_system") -> list[str]:
    r = await api.append(case_id, *events, role=role)
    assert r.status_code == 201, r.text
    return [e["event_id"] for e in r.json()["events"]]


async def refused(api: Any, case_id: str, event: dict[str, Any], rule: str) -> dict[str, Any]:
    r = await api.append(case_id, event)
    assert r.status_code == 409, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert (body["code"], body["rule"]) == ("rule_violation", rule), body
    return body


async def ledger(api: Any, case_id: str, role: str = "case_system") -> dict[str, Any]:
    r = await api.get(f"/cases/{case_id}/ledger", role=role)
    assert r.status_code == 200, r.text
    return r.json()


def pba(book: dict[str, Any], pba_id: str) -> dict[str, Any]:
    return next(p for p in book["pbas"] if p["pba_id"] == pba_id)


def milestone_auths(provider: str, pba_id: str = "pba-1", suffix: str = "") -> list[dict[str, Any]]:
    return [
        milestone_authorization(
            f"AP{suffix}",
            pba_id,
            "placement_plan_signed",
            provider=provider,
            end="2024-01-31",
            amount="1000.00",
        ),
        milestone_authorization(
            f"AH{suffix}", pba_id, "job_hire", provider=provider, end="2024-03-31", amount="1300.00"
        ),
        milestone_authorization(
            f"AS{suffix}",
            pba_id,
            "successful_placement",
            provider=provider,
            end="2024-12-31",
            amount="1500.00",
        ),
    ]


async def pba_opened_case(api: Any, case_id: str, provider: str) -> None:
    await ok(
        api,
        case_id,
        case_opened(),
        pba_opened("pba-1", provider, "2024-01-05"),
        *milestone_auths(provider),
    )


async def pba_case(api: Any, case_id: str, provider: str, *, temporary: bool = False) -> None:
    """Plan signed and paid, job j1 hired and paid: eligible for closure on 2024-05-15."""
    await pba_opened_case(api, case_id, provider)
    job = employment_started("j1", "2024-02-01", **({"temporary": True} if temporary else {}))
    await ok(
        api,
        case_id,
        plan_signed("pba-1", "AP", "2024-01-10"),
        job,
        job_hire("pba-1", "AH", "2024-02-02", job_id="j1"),
        paid("AP", "2024-01-20", "1000.00"),
        paid("AH", "2024-02-15", "1300.00"),
    )


# --- from plan to successful placement -----------------------------------------------------------


async def test_a_pba_from_plan_to_successful_placement_earns_3800(api, case_id, provider):
    await pba_opened_case(api, case_id, provider)
    book = await ledger(api, case_id)
    p = pba(book, "pba-1")
    assert (
        p["status"],
        p["provider_id"],
        p["earned"],
        p["authorized"],
        p["cap"],
        p["cap_left"],
    ) == ("open", provider, "0.00", "3800.00", "3800.00", "3800.00")

    await ok(api, case_id, plan_signed("pba-1", "AP", "2024-01-10"))
    p = pba(await ledger(api, case_id), "pba-1")
    assert (p["earned"], p["paid"], p["outstanding"]) == ("1000.00", "0.00", "1000.00")

    await ok(
        api,
        case_id,
        paid("AP", "2024-01-20", "1000.00"),
        employment_started("j1", "2024-02-01"),
        job_hire("pba-1", "AH", "2024-02-02"),
        paid("AH", "2024-02-15", "1300.00"),
    )
    p = pba(await ledger(api, case_id), "pba-1")
    assert (p["earned"], p["paid"], p["outstanding"], p["cap_left"]) == (
        "2300.00",
        "2300.00",
        "0.00",
        "1500.00",
    )

    clock = (await api.get(f"/cases/{case_id}/closure-clock", params={"as_of": "2024-05-01"})).json()
    assert clock["eligible_on"] == ELIGIBLE_ON
    body = await refused(
        api,
        case_id,
        successful_placement("pba-1", "AS", "2024-05-14"),
        "successful_placement_needs_eligible_clock",
    )
    assert ELIGIBLE_ON in body["detail"]
    await ok(api, case_id, successful_placement("pba-1", "AS", ELIGIBLE_ON))

    book = await ledger(api, case_id)
    p = pba(book, "pba-1")
    assert [(m["milestone"], m["amount"], m["rate"], m["note"]) for m in p["milestones"]] == [
        ("placement_plan_signed", "1000.00", "1000.00", None),
        ("job_hire", "1300.00", "1300.00", None),
        ("successful_placement", "1500.00", "1500.00", None),
    ]
    assert (p["earned"], p["paid"], p["outstanding"], p["cap_left"]) == (
        "3800.00",
        "2300.00",
        "1500.00",
        "0.00",
    )
    assert book["totals"] == {
        "earned": "3800.00",
        "authorized": "3800.00",
        "paid": "2300.00",
        "outstanding": "1500.00",
    }
    assert p["anomalies"] == []

    await ok(api, case_id, paid("AS", "2024-05-20", "1500.00"))
    p = pba(await ledger(api, case_id), "pba-1")
    assert (p["earned"], p["paid"], p["outstanding"]) == ("3800.00", "3800.00", "0.00")
    # the successful placement's payment follows the 90 days; it never holds the clock (3.3)
    clock = (await api.get(f"/cases/{case_id}/closure-clock", params={"as_of": "2024-05-21"})).json()
    assert (clock["status"], clock["eligible_on"]) == ("eligible", ELIGIBLE_ON)

    r = await api.get(f"/providers/{provider}/ledger")
    assert r.status_code == 200, r.text
    mine = r.json()
    assert mine["totals"] == {
        "pbas": 1,
        "open_pbas": 1,
        "earned": "3800.00",
        "authorized": "3800.00",
        "paid": "3800.00",
        "outstanding": "0.00",
    }
    assert [(x["case_id"], x["pba_id"]) for x in mine["pbas"]] == [(case_id, "pba-1")]
    assert mine["refused_claims"][0]["rule"] == "successful_placement_needs_eligible_clock"


async def test_provider_ledger_totals_add_up_across_cases_and_page(api, provider):
    cases = [f"case-{uuid.uuid4().hex[:12]}" for _ in range(3)]
    for case in cases:
        await pba_case(api, case, provider)
    await ok(api, cases[0], successful_placement("pba-1", "AS", ELIGIBLE_ON))
    first = (await api.get(f"/providers/{provider}/ledger", params={"limit": 2})).json()
    assert first["totals"] == {
        "pbas": 3,
        "open_pbas": 3,
        "earned": "8400.00",
        "authorized": "11400.00",
        "paid": "6900.00",
        "outstanding": "1500.00",
    }
    assert len(first["pbas"]) == 2 and first["next_cursor"]
    second = (
        await api.get(f"/providers/{provider}/ledger", params={"limit": 2, "cursor": first["next_cursor"]})
    ).json()
    assert second["next_cursor"] is None
    assert sorted(x["case_id"] for x in first["pbas"] + second["pbas"]) == sorted(cases)
    # a cursor this service never gave out is refused, not read as "from the start"
    for bad in ("garbage", "a~b~c", "~", "bad case~pba-1"):
        r = await api.get(f"/providers/{provider}/ledger", params={"cursor": bad})
        assert (r.status_code, r.json()["code"]) == (422, "invalid_request"), (bad, r.text)


# --- refusals, each kept once in refused_claims --------------------------------------------------


async def test_each_refused_claim_is_409_with_its_rule_and_listed_once_even_when_retried(
    api, case_id, provider
):
    await pba_opened_case(api, case_id, provider)
    tries: list[tuple[dict[str, Any], str]] = [
        (plan_signed("pba-1", "NOPE"), "milestone_not_preauthorized"),
        (plan_signed("pba-1", "AH"), "milestone_not_preauthorized"),
        (job_hire("pba-1", "AH", "2024-02-02"), "milestone_out_of_order"),
        (
            plan_signed("pba-1", "AP", signed_by=("consumer", "provider")),
            "placement_plan_needs_three_signatures",
        ),
        (
            plan_signed("pba-1", "AP", face_to_face=False),
            "placement_plan_needs_face_to_face_meeting",
        ),
    ]
    for event, rule in tries:
        await refused(api, case_id, event, rule)
        await refused(api, case_id, event, rule)  # a retry of the same claim

    await ok(
        api,
        case_id,
        plan_signed("pba-1", "AP", "2024-01-10"),
        employment_started("j1", "2024-02-01"),
    )
    hires = [
        (job_hire("pba-1", "AH", provider_is_employer=True), "job_hire_provider_is_employer"),
        (job_hire("pba-1", "AH", placement_type="enclave"), "job_hire_not_individual_placement"),
        (job_hire("pba-1", "AH", placement_type="clustered"), "job_hire_not_individual_placement"),
        (job_hire("pba-1", "AH", placement_type="scattered"), "job_hire_not_individual_placement"),
        (job_hire("pba-1", "AH", job_source="other_service"), "job_hire_from_other_service"),
    ]
    for event, rule in hires:
        await refused(api, case_id, event, rule)
        await refused(api, case_id, event, rule)
    await ok(
        api,
        case_id,
        job_hire("pba-1", "AH", "2024-02-02"),
        paid("AP", "2024-01-20", "1000.00"),
        paid("AH", "2024-02-15", "1300.00"),
    )
    early = successful_placement("pba-1", "AS", "2024-03-01")
    await refused(api, case_id, early, "successful_placement_needs_eligible_clock")
    await refused(api, case_id, early, "successful_placement_needs_eligible_clock")
    # a plan signed twice on one open PBA is a milestone already earned
    await refused(api, case_id, plan_signed("pba-1", "AP", "2024-02-20"), "milestone_already_earned")

    book = await ledger(api, case_id)
    claims = book["refused_claims"]
    assert len(claims) == len(tries) + len(hires) + 2
    expected = Counter(rule for _, rule in [*tries, *hires]) + Counter(
        ["successful_placement_needs_eligible_clock", "milestone_already_earned"]
    )
    assert Counter(c["rule"] for c in claims) == expected
    for claim in claims:
        assert claim["case_id"] == case_id and claim["pba_id"] == "pba-1"
        assert claim["provider_id"] == provider and claim["type"] == "PBAMilestoneReached"
        assert claim["detail"] and claim["actor"].startswith("case_system:")
    # nothing refused reached the ledger's money
    p = pba(book, "pba-1")
    assert [m["milestone"] for m in p["milestones"]] == ["placement_plan_signed", "job_hire"]
    assert p["earned"] == "2300.00"
    # and the provider's own ledger lists the same refusals
    mine = (await api.get(f"/providers/{provider}/ledger")).json()
    assert len(mine["refused_claims"]) == len(claims)


async def test_temporary_job_is_refused_until_an_ipe_amendment_accepts_it(api, case_id, provider):
    await pba_case(api, case_id, provider, temporary=True)
    body = await refused(
        api,
        case_id,
        successful_placement("pba-1", "AS", ELIGIBLE_ON),
        "successful_placement_needs_suitable_job",
    )
    assert "j1" in body["detail"] and "temporary" in body["detail"]
    await ok(api, case_id, ipe_amended("2024-05-01", accepts_job_id="j1"))
    await ok(api, case_id, successful_placement("pba-1", "AS", ELIGIBLE_ON))
    assert pba(await ledger(api, case_id), "pba-1")["earned"] == "3800.00"
    assert len((await ledger(api, case_id))["refused_claims"]) == 1


async def test_successful_placement_needs_a_current_job(api, case_id, provider):
    await pba_case(api, case_id, provider)
    await ok(api, case_id, employment_ended("j1", "2024-05-01"))
    # the case is not employed: no eligible clock, so that refusal comes first
    await refused(
        api,
        case_id,
        successful_placement("pba-1", "AS", ELIGIBLE_ON),
        "successful_placement_needs_eligible_clock",
    )


# --- re-placement, a new PBA, on-the-job training ------------------------------------------------


async def test_re_placement_after_a_job_loss_is_recorded_at_zero_with_a_note(api, case_id, provider):
    await pba_case(api, case_id, provider)
    # while the hired job is current, a second job hire is a milestone already earned
    await ok(api, case_id, employment_started("j2", "2024-03-01"))
    await refused(
        api, case_id, job_hire("pba-1", "AH", "2024-03-02", job_id="j2"), "milestone_already_earned"
    )
    await ok(api, case_id, employment_ended("j1", "2024-03-05"))
    await ok(api, case_id, job_hire("pba-1", "AH", "2024-03-06", job_id="j2"))
    p = pba(await ledger(api, case_id), "pba-1")
    hires = [m for m in p["milestones"] if m["milestone"] == "job_hire"]
    assert [h["amount"] for h in hires] == ["1300.00", "0.00"]
    assert hires[1]["rate"] == "1300.00"
    assert "re-placed by the provider with no additional payment" in hires[1]["note"]
    assert (p["earned"], p["outstanding"], p["cap_left"]) == ("2300.00", "0.00", "1500.00")
    assert p["anomalies"] == []


async def test_a_new_pba_after_a_significant_amendment_earns_the_plan_again(api, case_id, provider):
    await pba_case(api, case_id, provider)
    other = f"prov-{uuid.uuid4().hex[:10]}"
    # one primary provider: no second PBA while the first is open
    await refused(api, case_id, pba_opened("pba-2", other, "2024-03-01"), "one_primary_provider")
    await ok(
        api,
        case_id,
        pba_ended("pba-1", "2024-03-01", reason="significant_amendment"),
        pba_opened("pba-2", provider, "2024-03-05"),
        *milestone_auths(provider, "pba-2", suffix="2"),
    )
    await refused(api, case_id, plan_signed("pba-1", "AP", "2024-03-06"), "pba_not_open")
    await ok(api, case_id, plan_signed("pba-2", "AP2", "2024-03-10"))
    book = await ledger(api, case_id)
    first, second = pba(book, "pba-1"), pba(book, "pba-2")
    assert (first["status"], first["end_reason"], first["ended_on"], first["earned"]) == (
        "ended",
        "significant_amendment",
        "2024-03-01",
        "2300.00",
    )
    assert (second["status"], second["earned"], second["cap_left"]) == (
        "open",
        "1000.00",
        "2800.00",
    )
    assert [m["amount"] for m in second["milestones"]] == ["1000.00"]
    assert book["totals"]["earned"] == "3300.00"
    assert [p["pba_id"] for p in book["pbas"]] == ["pba-1", "pba-2"]


async def test_a_job_from_on_the_job_training_or_a_try_out_qualifies(api, case_id, provider):
    await pba_opened_case(api, case_id, provider)
    await ok(
        api,
        case_id,
        plan_signed("pba-1", "AP"),
        employment_started("j1", "2024-02-01"),
        job_hire("pba-1", "AH", "2024-02-02", job_source="ojt_or_try_out"),
    )
    p = pba(await ledger(api, case_id), "pba-1")
    assert [(m["milestone"], m["amount"]) for m in p["milestones"]][-1] == ("job_hire", "1300.00")


async def test_a_payment_above_what_was_earned_is_an_anomaly(api, case_id, provider):
    await pba_opened_case(api, case_id, provider)
    await ok(
        api,
        case_id,
        plan_signed("pba-1", "AP"),
        paid("AP", "2024-01-20", "1200.00"),
        paid("AS", "2024-01-25", "50.00", in_full=False),
    )
    p = pba(await ledger(api, case_id), "pba-1")
    assert (p["earned"], p["paid"], p["outstanding"]) == ("1000.00", "1250.00", "0.00")
    assert len(p["anomalies"]) == 2, p["anomalies"]
    over, unearned = p["anomalies"]
    assert "AP" in over and "200.00 more than the 1000.00 earned" in over
    assert "AS" in unearned and "no milestone claim" in unearned


async def test_a_milestone_authorization_for_another_provider_is_refused(api, case_id, provider):
    await ok(api, case_id, case_opened(), pba_opened("pba-1", provider))
    await refused(
        api,
        case_id,
        milestone_authorization("AX", "pba-1", "placement_plan_signed", provider="someone-else"),
        "milestone_authorization_wrong_provider",
    )


# --- provider keys and the auditor ---------------------------------------------------------------


async def test_a_provider_key_claims_its_own_milestones_and_nothing_else(api, pool, case_id, provider):
    other = f"prov-{uuid.uuid4().hex[:10]}"
    key_a = await api.key_for(pool, "provider", provider_id=provider)
    key_b = await api.key_for(pool, "provider", provider_id=other)
    api.keys["prov_a"], api.keys["prov_b"] = key_a, key_b
    await pba_opened_case(api, case_id, provider)
    case_b = f"{case_id}-b"
    await ok(api, case_b, case_opened(), pba_opened("pba-b", other), *milestone_auths(other, "pba-b"))

    [claim] = await ok(api, case_id, plan_signed("pba-1", "AP"), role="prov_a")
    events = (await api.get(f"/cases/{case_id}/events")).json()["events"]
    stored = next(e for e in events if e["event_id"] == claim)
    assert stored["metadata"]["actor"].startswith(f"provider:{provider}:")
    assert pba(await ledger(api, case_id), "pba-1")["earned"] == "1000.00"

    # provider A's key on provider B's PBA: no such PBA for it
    r = await api.append(case_b, plan_signed("pba-b", "AP"), role="prov_a")
    assert (r.status_code, r.json()["code"]) == (404, "case_not_found")
    r = await api.append(f"{case_id}-nowhere", plan_signed("pba-1", "AP"), role="prov_a")
    assert r.status_code == 404
    # other event types, alone or in a batch
    for events_ in (
        [paid("AP", "2024-01-20", "1000.00")],
        [pba_opened("pba-x", provider)],
        [plan_signed("pba-1", "AP"), ev("EmploymentStarted", **employment_started()["data"])],
    ):
        r = await api.append(case_id, *events_, role="prov_a")
        assert (r.status_code, r.json()["code"]) == (403, "forbidden"), r.text
    # a refused claim of A's is A's to see, not B's
    await ok(api, case_id, employment_started("j1", "2024-02-01"))
    r = await api.append(case_id, job_hire("pba-1", "AH", provider_is_employer=True), role="prov_a")
    assert (r.status_code, r.json()["rule"]) == (409, "job_hire_provider_is_employer")
    # A's ledger is A's: B's is forbidden
    r = await api.get(f"/providers/{other}/ledger", role="prov_a")
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    mine = (await api.get(f"/providers/{provider}/ledger", role="prov_a")).json()
    assert [x["pba_id"] for x in mine["pbas"]] == ["pba-1"]
    assert [c["rule"] for c in mine["refused_claims"]] == ["job_hire_provider_is_employer"]
    theirs = (await api.get(f"/providers/{other}/ledger", role="prov_b")).json()
    assert theirs["refused_claims"] == [] and [x["pba_id"] for x in theirs["pbas"]] == ["pba-b"]
    # a provider reads no clock and no stream
    assert (await api.get(f"/cases/{case_id}/closure-clock", role="prov_a")).status_code == 403
    assert (await api.get(f"/cases/{case_id}/events", role="prov_a")).status_code == 403
    assert len((await api.get(f"/cases/{case_id}/events")).json()["events"]) == 7


async def test_a_provider_sees_only_its_own_pbas_in_a_case_ledger(api, pool, case_id, provider):
    other = f"prov-{uuid.uuid4().hex[:10]}"
    api.keys["prov_a2"] = await api.key_for(pool, "provider", provider_id=provider)
    api.keys["prov_b2"] = await api.key_for(pool, "provider", provider_id=other)
    await ok(
        api,
        case_id,
        case_opened(),
        pba_opened("pba-b", other, "2024-01-05"),
        *milestone_auths(other, "pba-b", suffix="b"),
    )
    await ok(api, case_id, plan_signed("pba-b", "APb", "2024-01-10"), role="prov_b2")
    await refused(
        api,
        case_id,
        plan_signed("pba-b", "APb", "2024-01-11", face_to_face=False),
        "milestone_already_earned",
    )
    await ok(
        api,
        case_id,
        pba_ended("pba-b", "2024-02-01", reason="withdrawn"),
        pba_opened("pba-a", provider, "2024-02-05"),
        *milestone_auths(provider, "pba-a", suffix="a"),
    )
    await ok(api, case_id, plan_signed("pba-a", "APa", "2024-02-10"), role="prov_a2")

    everything = await ledger(api, case_id)
    assert [p["pba_id"] for p in everything["pbas"]] == ["pba-b", "pba-a"]
    assert everything["totals"]["earned"] == "2000.00" and len(everything["refused_claims"]) == 1
    a = await ledger(api, case_id, role="prov_a2")
    assert [p["pba_id"] for p in a["pbas"]] == ["pba-a"] and a["refused_claims"] == []
    assert a["totals"]["earned"] == "1000.00"
    b = await ledger(api, case_id, role="prov_b2")
    assert [p["pba_id"] for p in b["pbas"]] == ["pba-b"] and len(b["refused_claims"]) == 1
    # B's PBA is ended: the case holds no open PBA of B's, so to B's key it is not there
    r = await api.append(case_id, job_hire("pba-b", "AHb", "2024-02-20"), role="prov_b2")
    assert (r.status_code, r.json()["code"]) == (404, "case_not_found")
    # a case with none of A's PBAs is not A's to see
    lonely = f"{case_id}-lonely"
    await ok(api, lonely, case_opened(), pba_opened("pba-z", other))
    r = await api.get(f"/cases/{lonely}/ledger", role="prov_a2")
    assert (r.status_code, r.json()["code"]) == (404, "case_not_found")


async def test_the_auditor_reads_everything_and_appends_nothing(api, case_id, provider):
    await pba_case(api, case_id, provider)
    for path in (
        f"/cases/{case_id}/ledger",
        f"/providers/{provider}/ledger",
        f"/cases/{case_id}/closure-clock",
        f"/cases/{case_id}/events",
        f"/cases/{case_id}/history",
        f"/cases/{case_id}/verify",
        "/events",
        "/closure-clock/worklist",
    ):
        r = await api.get(path, role="auditor")
        assert r.status_code == 200, (path, r.text)
    book = await ledger(api, case_id, role="auditor")
    assert pba(book, "pba-1")["earned"] == "2300.00"
    r = await api.append(case_id, successful_placement("pba-1", "AS", ELIGIBLE_ON), role="auditor")
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    assert r.headers["content-type"].startswith("application/problem+json")
    assert pba(await ledger(api, case_id), "pba-1")["earned"] == "2300.00"


async def test_unknown_case_ledger_is_404(api, case_id):
    r = await api.get(f"/cases/{case_id}/ledger")
    assert (r.status_code, r.json()["code"]) == (404, "case_not_found")


# --- corrections reach the ledger ----------------------------------------------------------------


async def test_retracting_a_milestone_or_the_pba_itself_updates_both_ledgers(api, case_id, provider):
    await pba_case(api, case_id, provider)
    hire = next(
        e
        for e in (await api.get(f"/cases/{case_id}/events")).json()["events"]
        if e["data"].get("milestone") == "job_hire" and e["type"] == "PBAMilestoneReached"
    )
    await ok(api, case_id, ev("EventRetracted", retracted_event_id=hire["event_id"], reason="wrong job"))
    p = pba(await ledger(api, case_id), "pba-1")
    assert [m["milestone"] for m in p["milestones"]] == ["placement_plan_signed"]
    assert p["earned"] == "1000.00"
    # the hire authorization's payment now pays a milestone nobody earned
    assert any("AH" in a and "no milestone claim" in a for a in p["anomalies"]), p["anomalies"]
    mine = (await api.get(f"/providers/{provider}/ledger")).json()
    assert mine["totals"]["earned"] == "1000.00"

    opened = next(
        e for e in (await api.get(f"/cases/{case_id}/events")).json()["events"] if e["type"] == "PBAOpened"
    )
    await ok(
        api,
        case_id,
        ev("EventRetracted", retracted_event_id=opened["event_id"], reason="wrong case"),
    )
    assert (await ledger(api, case_id))["pbas"] == []
    mine = (await api.get(f"/providers/{provider}/ledger")).json()
    assert mine["pbas"] == [] and mine["totals"]["pbas"] == 0 and mine["totals"]["earned"] == "0.00"


async def test_successful_placement_claimed_after_a_successful_closure_is_accepted(api, case_id, provider):
    await pba_case(api, case_id, provider)
    await ok(
        api,
        case_id,
        {"type": "CaseClosed", "data": {"closed_on": "2024-05-20", "outcome": "successful"}},
    )
    await ok(api, case_id, successful_placement("pba-1", "AS", ELIGIBLE_ON))
    assert pba(await ledger(api, case_id), "pba-1")["earned"] == "3800.00"
