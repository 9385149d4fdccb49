"""Policy as recorded history (issue 11, items 6-8): adoption, known_at replays that do
not move, adjustment lines, the hash chain, and the what-if preview.

The standard case (`pba_case`): plan signed 2024-01-10 (1000.00), job hire 2024-02-02
(1300.00) paid 2024-02-15, so the clock starts 2024-02-15 and is eligible 2024-05-15.
The retroactive version from 2024-01-01 raises the job hire to 1400.00 and the wait to
120 days: eligible 2024-06-14.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from app.domain.policy import DEFAULT_POLICY
from app.service import reads
from app.service.history import case_history
from app.service.policy import PolicyCache, verify_chain
from app.service.reads import to_fact
from app.store import streams
from app.store.pool import Pool
from tests.builders import (
    case_opened,
    employment_started,
    job_hire,
    milestone_authorization,
    paid,
    pba_opened,
    plan_signed,
)
from tests.integration.policy_app import policy_api

RAISED = {
    "effective_from": "2024-01-01",
    "closure_wait_days": 120,
    "milestone_rates": {
        "placement_plan_signed": "1000.00",
        "job_hire": "1400.00",
        "successful_placement": "1500.00",
    },
    "pba_cap_per_consumer": "3800.00",
}


@pytest.fixture
async def papi(fresh: tuple[str, Pool]) -> Any:
    url, pool = fresh
    async for api, app in policy_api(url, pool):
        yield api, app, pool


async def ok(api: Any, case_id: str, *events: dict[str, Any]) -> None:
    r = await api.append(case_id, *events)
    assert r.status_code == 201, r.text


async def pba_case(api: Any, case_id: str, *, hired: str = "2024-02-02") -> None:
    provider = "prov-1"
    auths = [
        milestone_authorization("AP", "pba-1", "placement_plan_signed", provider=provider, end="2024-01-31"),
        milestone_authorization(
            "AH", "pba-1", "job_hire", provider=provider, end="2024-12-31", amount="1300.00"
        ),
    ]
    await ok(api, case_id, case_opened(), pba_opened("pba-1", provider, "2024-01-05"), *auths)
    await ok(
        api,
        case_id,
        plan_signed("pba-1", "AP", "2024-01-10"),
        employment_started("j1", "2024-02-01"),
        job_hire("pba-1", "AH", hired, job_id="j1"),
        paid("AP", "2024-01-20", "1000.00"),
        paid("AH", "2024-02-15", "1300.00"),
    )


async def answers(api: Any, app: Any, pool: Pool, case_id: str, known_at: str | None) -> dict[str, Any]:
    """What the service answers for the case as known at `known_at`: clock, ledger, history."""
    params = {"as_of": "2024-12-31", **({"known_at": known_at} if known_at else {})}
    clock = await api.get(f"/cases/{case_id}/closure-clock", params=params)
    assert clock.status_code == 200, clock.text
    moment = datetime.fromisoformat(known_at) if known_at else None
    policy = app.state.ctx.policy
    async with pool.acquire() as conn:
        ledger, _ = await reads.case_ledger(conn, case_id, known_at=moment, policy=policy)
        events = await streams.read_stream(conn, case_id, known_at=moment)
    history = case_history(events, [to_fact(e) for e in events], policy, known_at=moment)
    return {"clock": clock.content, "ledger": ledger, "history": history}


async def test_an_admin_adopts_over_http_and_anyone_may_list_who_adopted_what(papi: Any) -> None:
    api, _, _ = papi
    adopted = await api.post("/policy/versions", RAISED, role="admin")
    assert adopted.status_code == 201, adopted.text
    body = adopted.json()
    assert (body["number"], body["adopted_by"]) == (2, adopted.json()["adopted_by"])
    assert body["adopted_by"].startswith("admin:") and body["milestone_rates"]["job_hire"] == "1400.00"
    listed = (await api.get("/policy/versions", role="case_system")).json()["versions"]
    assert [(v["number"], v["adopted_by"]) for v in listed] == [
        (1, "seed: built-in default table"),
        (2, body["adopted_by"]),
    ]
    before = (await api.get("/policy/versions?known_at=2000-01-01T00:00:00Z", role="auditor")).json()
    assert [v["number"] for v in before["versions"]] == [1]
    assert (await api.post("/policy/versions", RAISED, role="case_system")).status_code == 403


@pytest.mark.parametrize(
    "change",
    [
        {"closure_wait_days": 0},
        {"effective_from": "2024-13-01"},
        {"milestone_rates": {"job_hire": "1.00"}},
        {"pba_cap_per_consumer": "12.345"},
        {"pba_cap_per_consumer": "-1"},
        {"surprise": 1},
    ],
)
async def test_a_bad_row_is_422_invalid_request_and_adopts_nothing(papi: Any, change: dict[str, Any]) -> None:
    api, _, _ = papi
    r = await api.post("/policy/versions", {**RAISED, **change}, role="admin")
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "invalid_request"
    assert len((await api.get("/policy/versions")).json()["versions"]) == 1


async def test_a_retroactive_adoption_leaves_replays_before_it_alone_and_adjusts_after(papi: Any) -> None:
    api, app, pool = papi
    case_id = f"case-{uuid.uuid4().hex[:12]}"
    await pba_case(api, case_id)
    then = datetime.now(UTC).isoformat()
    replay_before = await answers(api, app, pool, case_id, then)
    assert (await api.post("/policy/versions", RAISED, role="admin")).json()["refreshed_cases"] == 1

    assert await answers(api, app, pool, case_id, then) == replay_before  # byte for byte
    clock = (await api.get(f"/cases/{case_id}/closure-clock?as_of=2024-12-31")).json()
    assert clock["eligible_on"] == "2024-06-14"
    assert any("eligible_on moved from 2024-05-15 to 2024-06-14" in s for s in clock["explanation"])
    book = (await api.get(f"/cases/{case_id}/ledger")).json()
    (pba,) = book["pbas"]
    hire = next(line for line in pba["milestones"] if line["milestone"] == "job_hire")
    assert (hire["amount"], hire["outstanding"]) == ("1300.00", "100.00")
    (adjustment,) = pba["adjustments"]
    assert {
        k: adjustment[k] for k in ("milestone", "old_amount", "new_amount", "difference", "policy_version")
    } == {
        "milestone": "job_hire",
        "old_amount": "1300.00",
        "new_amount": "1400.00",
        "difference": "100.00",
        "policy_version": 2,
    }
    assert (pba["earned"], book["totals"]["earned"], pba["cap_left"]) == ("2400.00", "2400.00", "1400.00")
    now = await answers(api, app, pool, case_id, None)
    assert now["ledger"] == book["pbas"]  # the stored rows equal a fold as known now


async def test_a_milestone_recorded_after_the_adoption_is_priced_by_it_without_adjustment(papi: Any) -> None:
    api, _, _ = papi
    await api.post("/policy/versions", RAISED, role="admin")
    case_id = f"case-{uuid.uuid4().hex[:12]}"
    await pba_case(api, case_id)
    (pba,) = (await api.get(f"/cases/{case_id}/ledger")).json()["pbas"]
    assert pba["earned"] == "2400.00" and pba["adjustments"] == []
    clock = (await api.get(f"/cases/{case_id}/closure-clock?as_of=2024-12-31")).json()
    assert clock["eligible_on"] == "2024-06-14"


async def test_the_chain_verifies_and_postgresql_refuses_to_rewrite_it(papi: Any) -> None:
    api, _, pool = papi
    await api.post("/policy/versions", RAISED, role="admin")
    async with pool.acquire() as conn:
        assert await verify_chain(conn) == []
        for statement in (
            "UPDATE policy_versions SET closure_wait_days = 30 WHERE number = 1",
            "DELETE FROM policy_versions WHERE number = 2",
            "TRUNCATE policy_versions",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(statement)


async def test_preview_lists_exactly_the_cases_that_change_and_adoption_agrees(papi: Any) -> None:
    api, _, _ = papi
    first_case, second_case = f"case-a{uuid.uuid4().hex[:8]}", f"case-b{uuid.uuid4().hex[:8]}"
    await pba_case(api, first_case)
    await pba_case(api, second_case)
    # Not changed: a case with no clock, and a PBA with no milestone whose cap stays 3800.00.
    await ok(api, f"case-c{uuid.uuid4().hex[:8]}", case_opened())
    await ok(api, f"case-d{uuid.uuid4().hex[:8]}", case_opened(), pba_opened("pba-1", "prov-1", "2024-01-05"))
    # Both cases hire on 2024-02-02 and start their clock on 2024-02-15. A version from
    # 2024-03-01 changes neither; one from 2024-02-10 moves both clocks, not the hire's price.
    later = {**RAISED, "effective_from": "2024-02-10"}
    none = (
        await api.post("/policy/preview", {**RAISED, "effective_from": "2024-03-01"}, role="auditor")
    ).json()
    assert none == {"changes": [], "next_cursor": None}
    both = (await api.post("/policy/preview?limit=1", later, role="auditor")).json()
    assert [c["case_id"] for c in both["changes"]] == [first_case] and both["next_cursor"] == first_case
    rest = (await api.post(f"/policy/preview?limit=1&cursor={first_case}", later, role="auditor")).json()
    assert [c["case_id"] for c in rest["changes"]] == [second_case]
    first = both["changes"][0]
    assert first["before"]["clock"]["eligible_on"] == "2024-05-15"
    assert first["after"]["clock"]["eligible_on"] == "2024-06-14"
    assert "ledger" not in first["after"]  # the hire (2024-02-02) is before 2024-02-10
    full = (await api.post("/policy/preview", RAISED, role="admin")).json()["changes"]
    assert [c["case_id"] for c in full] == [first_case, second_case]
    assert full[0]["after"]["ledger"]["pba-1"]["earned"] == "2400.00"
    assert (await api.post("/policy/preview", RAISED, role="case_system")).status_code == 403

    adopted = (await api.post("/policy/versions", RAISED, role="admin")).json()
    assert adopted["refreshed_cases"] == 2
    for change in full:
        clock = (
            await api.get(f"/cases/{change['case_id']}/closure-clock?as_of={datetime.now(UTC).date()}")
        ).json()
        assert {k: clock[k] for k in ("status", "eligible_on")} == change["after"]["clock"]
        (pba,) = (await api.get(f"/cases/{change['case_id']}/ledger")).json()["pbas"]
        assert {k: pba[k] for k in change["after"]["ledger"]["pba-1"]} == change["after"]["ledger"]["pba-1"]
    assert (await api.post("/policy/preview", RAISED, role="admin")).json()["changes"] == []


async def test_another_process_converges_on_the_cheap_check(papi: Any) -> None:
    api, _, pool = papi
    other = PolicyCache(pool)
    await other.start(DEFAULT_POLICY, "seed: built-in default table")
    assert await other.check() is False
    await api.post("/policy/versions", RAISED, role="admin")
    assert await other.check() is True
    assert other.current().closure_wait_days(datetime(2024, 3, 1).date()) == 120
