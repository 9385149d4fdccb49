"""A provider probing for cases (issue 14, item 1): for every case that holds no open PBA
of its own, a provider key is answered `404 case_not_found` the same way, before any
version or idempotency answer; event ids of other cases and other providers leak nothing.

Meant for tests/security/test_provider_probing.py once the append service answers so
(it fails on the current service: 409 version_conflict with current_version, 409
idempotency_conflict, 201 idempotent_replay).
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.builders import authorization, case_opened, ev

PLAN_EVIDENCE = {"signed_by": ["consumer", "provider", "vr_staff"], "face_to_face": True}


def _claim(pba_id: str = "pba-1", auth_id: str = "auth-plan", **extra: Any) -> dict[str, Any]:
    return {
        **ev(
            "PBAMilestoneReached",
            pba_id=pba_id,
            milestone="placement_plan_signed",
            reached_on="2024-01-24",
            authorization_id=auth_id,
            **PLAN_EVIDENCE,
        ),
        **extra,
    }


async def _case_with_pba(api: Any, case_id: str, provider_id: str) -> None:
    response = await api.append(
        case_id,
        case_opened("2024-01-02", categories=("job_coaching", "job_placement")),
        ev("PBAOpened", pba_id="pba-1", provider_id=provider_id, opened_on="2024-01-10"),
        authorization(
            "auth-plan",
            "2024-01-10",
            "2024-02-29",
            provider=provider_id,
            category="job_placement",
            amount="1000.00",
            pba_id="pba-1",
            milestone="placement_plan_signed",
        ),
    )
    assert response.status_code == 201, response.text


async def _as_provider(api: Any, key: str, case_id: str, body: dict[str, Any]) -> httpx.Response:
    return await api.client.post(
        f"/cases/{case_id}/events", json=body, headers={"Authorization": f"Bearer {key}"}
    )


def _same_404(response: httpx.Response, case_id: str, missing: httpx.Response, missing_id: str) -> None:
    """404 case_not_found, worded exactly as for a case that does not exist."""
    assert response.status_code == 404, response.text
    body, expected = response.json(), missing.json()
    assert body["code"] == "case_not_found" and "current_version" not in body
    assert body["detail"].replace(case_id, "X") == expected["detail"].replace(missing_id, "X")
    assert set(body) == set(expected)


async def _missing(api: Any, key: str) -> tuple[httpx.Response, str]:
    missing_id = f"missing-{uuid.uuid4().hex[:12]}"
    response = await _as_provider(api, key, missing_id, {"expected_version": 0, "events": [_claim()]})
    assert response.status_code == 404 and response.json()["code"] == "case_not_found"
    return response, missing_id


async def test_an_existing_case_answers_as_a_missing_one_whatever_the_version(api, pool, case_id):
    key = await api.key_for(pool, "provider", provider_id="prov-probe")
    missing, missing_id = await _missing(api, key)
    assert (await api.append(case_id, case_opened())).status_code == 201
    for expected_version in (0, 1, 5, None):
        body: dict[str, Any] = {"events": [_claim()]}
        if expected_version is not None:
            body["expected_version"] = expected_version
        _same_404(await _as_provider(api, key, case_id, body), case_id, missing, missing_id)


async def test_another_providers_case_answers_as_a_missing_one(api, pool, case_id):
    key = await api.key_for(pool, "provider", provider_id="prov-probe")
    missing, missing_id = await _missing(api, key)
    await _case_with_pba(api, case_id, "prov-other")
    for expected_version in (0, 3):
        body = {"expected_version": expected_version, "events": [_claim()]}
        _same_404(await _as_provider(api, key, case_id, body), case_id, missing, missing_id)


async def test_stored_event_ids_of_other_cases_leak_nothing(api, pool, case_id):
    """Attack: probe event ids; an id stored in any case used to answer 409
    idempotency_conflict, an unknown one something else."""
    key = await api.key_for(pool, "provider", provider_id="prov-probe")
    missing, missing_id = await _missing(api, key)
    stored_id = str(uuid.uuid4())
    opened = {**case_opened(), "event_id": stored_id}
    assert (await api.append(case_id, opened)).status_code == 201
    for target in (case_id, missing_id):
        body = {"events": [_claim(event_id=stored_id)]}
        response = await _as_provider(api, key, target, body)
        _same_404(response, target, missing, missing_id)


async def test_replaying_another_providers_stored_event_is_not_a_replay(api, pool, case_id):
    """Attack: re-send another provider's stored claim (its exact body): it used to answer
    201 idempotent_replay with the stored event's version and position."""
    owner = await api.key_for(pool, "provider", provider_id="prov-owner")
    prober = await api.key_for(pool, "provider", provider_id="prov-probe")
    missing, missing_id = await _missing(api, prober)
    await _case_with_pba(api, case_id, "prov-owner")
    body = {"events": [_claim(event_id=str(uuid.uuid4()))]}
    first = await _as_provider(api, owner, case_id, body)
    assert first.status_code == 201, first.text
    again = await _as_provider(api, owner, case_id, body)
    assert again.status_code == 201 and again.json()["idempotent_replay"] is True
    _same_404(await _as_provider(api, prober, case_id, body), case_id, missing, missing_id)


async def test_a_provider_still_claims_on_its_own_open_pba(api, pool, case_id):
    key = await api.key_for(pool, "provider", provider_id="prov-own")
    await _case_with_pba(api, case_id, "prov-own")
    stale = await _as_provider(api, key, case_id, {"expected_version": 1, "events": [_claim()]})
    assert stale.status_code == 409 and stale.json()["code"] == "version_conflict"
    claimed = await _as_provider(api, key, case_id, {"expected_version": 3, "events": [_claim()]})
    assert claimed.status_code == 201, claimed.text
