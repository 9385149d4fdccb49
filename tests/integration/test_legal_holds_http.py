"""Legal holds over HTTP (issue 13, item 3): who may place and lift them, what a lift needs,
and that no key at all may append `CaseRecordsDestroyed` (only `caseledger retention run`)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.builders import case_closed, case_opened, ev, retracted
from tests.conftest import Api
from tests.integration.retention_cases import hold, lift, ok

DESTROYED = ev(
    "CaseRecordsDestroyed", destroyed_on="2026-01-05", rule="retention_after_closure", period_years=5
)


def problem(response: httpx.Response, status: int, code: str, rule: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code and body.get("rule") == rule, body
    return body


async def test_only_an_auditor_or_admin_places_and_lifts_a_hold(api: Api, pool: Any, case_id: str) -> None:
    await ok(api, case_id, case_opened(), case_closed("2024-03-01", outcome="unsuccessful"))
    refused = problem(await api.append(case_id, hold("2024-04-01", "lawsuit")), 403, "forbidden")
    assert "admin or auditor" in refused["detail"]
    api.keys["prov_hold"] = await api.key_for(pool, "provider", provider_id="prov-hold")
    problem(await api.append(case_id, hold("2024-04-01", "lawsuit"), role="prov_hold"), 403, "forbidden")
    # an auditor appends holds, and nothing else
    problem(await api.append(case_id, case_closed("2024-03-02"), role="auditor"), 403, "forbidden")
    await ok(api, case_id, hold("2024-04-01", "Rivera v. State"), role="auditor")
    await ok(api, case_id, lift("2024-09-01", "settled"), role="admin")
    events = (await api.get(f"/cases/{case_id}/events")).json()["events"]
    assert [e["type"] for e in events][-2:] == ["LegalHoldPlaced", "LegalHoldLifted"]
    assert events[-2]["metadata"]["actor"].startswith("auditor:")
    # the clock takes no notice: still closed on the day it closed
    clock = (await api.get(f"/cases/{case_id}/closure-clock")).json()
    assert clock["status"] == "closed"


async def test_a_lift_needs_a_hold_in_force_on_its_date(api: Api, case_id: str) -> None:
    await ok(api, case_id, case_opened())
    problem(
        await api.append(case_id, lift("2024-02-01", "x"), role="auditor"),
        409,
        "rule_violation",
        "legal_hold_not_in_force",
    )
    await ok(api, case_id, hold("2024-03-01", "audit"), role="auditor")
    early = await api.append(case_id, lift("2024-02-01", "before the hold"), role="auditor")
    problem(early, 409, "rule_violation", "legal_hold_not_in_force")
    await ok(api, case_id, lift("2024-03-05", "audit done"), role="auditor")
    problem(
        await api.append(case_id, lift("2024-03-06", "again"), role="auditor"),
        409,
        "rule_violation",
        "legal_hold_not_in_force",
    )


async def test_a_hold_cannot_be_retracted_by_the_case_system(api: Api, case_id: str) -> None:
    await ok(api, case_id, case_opened())
    placed = await api.append(case_id, hold("2024-03-01", "audit"), role="auditor")
    hold_id = placed.json()["events"][0]["event_id"]
    refused = await api.append(case_id, retracted(hold_id))
    problem(refused, 409, "rule_violation", "retention_event_not_retractable")


async def test_no_key_may_append_case_records_destroyed(api: Api, case_id: str) -> None:
    await ok(api, case_id, case_opened(), case_closed("2015-03-01", outcome="unsuccessful"))
    for role in ("case_system", "auditor", "admin"):
        refused = problem(await api.append(case_id, DESTROYED, role=role), 403, "forbidden")
        assert "caseledger retention run" in refused["detail"]
    events = (await api.get(f"/cases/{case_id}/events")).json()["events"]
    assert [e["type"] for e in events] == ["CaseOpened", "CaseClosed"]
