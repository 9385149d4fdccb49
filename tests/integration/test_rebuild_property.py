"""Property: whatever valid history a case has, its live read models are the fold of its log.

Random sequences of one case's events go through the HTTP API one by one (the
API refuses what it must; refusals are ignored), so the live rows are what the
append path wrote: snapshots every few versions, clock and ledger rows only when
they changed. They must equal a fold from scratch of the stored stream, and be
what `rebuild()` writes.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain.case import SNAPSHOT, replay
from app.domain.policy import DEFAULT_POLICY
from app.ops.rebuild import rebuild
from app.projections.closure_clock import STORED_COLUMNS, clock_row, stored_clock_row
from app.projections.ledger import ledger_rows
from app.service.reads import case_state, to_fact
from app.store import streams as store
from app.store.db import create_pool
from tests.conftest import Api, make_api

_DAY0 = date(2024, 1, 1)
jobs, auths, pbas = (
    st.sampled_from(["J1", "J2"]),
    st.sampled_from(["A1", "A2", "A3"]),
    st.sampled_from(["P1", "P2"]),
)
categories = st.sampled_from(["job_coaching", "job_placement", "transportation"])
milestones = st.sampled_from(["placement_plan_signed", "job_hire", "successful_placement"])


def _ev(event_type: str, **data: Any) -> dict[str, Any]:
    return {"type": event_type, "data": {k: v for k, v in data.items() if v is not None}}


def _claim(pba: str, milestone: str, on: str, flawed: bool) -> dict[str, Any]:
    evidence: dict[str, Any] = {
        "placement_plan_signed": {
            "signed_by": ["consumer", "provider", "vr_staff"],
            "face_to_face": not flawed,
        },
        "job_hire": {
            "job_id": "J1",
            "first_paid_shift_on": on,
            "placement_type": "individual",
            "provider_is_employer": flawed,
            "job_source": "pba",
        },
        "successful_placement": {},
    }[milestone]
    return _ev(
        "PBAMilestoneReached",
        pba_id=pba,
        milestone=milestone,
        reached_on=on,
        authorization_id=f"M-{pba}-{milestone[:4]}",
        **evidence,
    )


def _pba_opened(pba: str, on: str) -> list[dict[str, Any]]:
    """A PBA with its three milestones pre-authorized, as VR staff would set it up."""
    return [_ev("PBAOpened", pba_id=pba, provider_id="prov-1", opened_on=on)] + [
        _ev(
            "AuthorizationIssued",
            authorization_id=f"M-{pba}-{m[:4]}",
            provider_id="prov-1",
            service_category="job_placement",
            start_date=on,
            end_date=on,
            amount="1000.00",
            pba_id=pba,
            milestone=m,
        )
        for m in ("placement_plan_signed", "job_hire", "successful_placement")
    ]


def _job(job: str, on: str, temporary: bool, continues: str | None) -> dict[str, Any]:
    return _ev(
        "EmploymentStarted",
        job_id=job,
        start_date=on,
        employer="Acme",
        soc_code="35-2014",
        hours_per_week=30,
        hourly_wage="15.50",
        temporary=temporary,
        continuous_with_job_id=continues if continues != job else None,
    )


# Each step is what a case system or provider sends on the step's day (a week apart, so
# dates mostly move forward as in real life and the 90 days can pass).
step = st.one_of(
    st.tuples(jobs, st.booleans(), st.sampled_from([None, "J1", "J2"])).map(
        lambda t: lambda on: [_job(*t[:1], on, *t[1:])]
    ),
    jobs.map(lambda j: lambda on: [_ev("EmploymentEnded", job_id=j, end_date=on, reason="laid off")]),
    st.tuples(auths, st.booleans(), categories).map(
        lambda t: (
            lambda on: [
                _ev(
                    "AuthorizationIssued",
                    authorization_id=t[0],
                    provider_id="prov-2",
                    service_category=t[2],
                    start_date=on,
                    end_date=on,
                    amount="200.00",
                    post_employment=t[1],
                )
            ]
        )
    ),
    st.tuples(st.one_of(auths, st.sampled_from(["M-P1-plac", "M-P1-job_", "M-P2-plac"])), st.booleans()).map(
        lambda t: (
            lambda on: [
                _ev(
                    "AuthorizationPaid",
                    authorization_id=t[0],
                    payment_date=on,
                    amount="200.00",
                    paid_in_full=t[1],
                )
            ]
        )
    ),
    auths.map(lambda a: lambda on: [_ev("AuthorizationCancelled", authorization_id=a, cancelled_on=on)]),
    pbas.map(lambda p: lambda on: _pba_opened(p, on)),
    pbas.map(
        lambda p: (
            lambda on: [
                *_pba_opened(p, on),
                _claim(p, "placement_plan_signed", on, False),
                _claim(p, "job_hire", on, False),
            ]
        )
    ),
    st.tuples(pbas, milestones, st.booleans()).map(lambda t: lambda on: [_claim(t[0], t[1], on, t[2])]),
    pbas.map(lambda p: lambda on: [_ev("PBAEnded", pba_id=p, ended_on=on, reason="significant_amendment")]),
    categories.map(lambda c: lambda on: [_ev("IPEAmended", amended_on=on, service_categories_added=[c])]),
    st.just(lambda on: [_ev("M4Ended", end_date=on)]),
    st.just(lambda on: [_ev("EmploymentFollowUpCancelled", cancelled_on=on, reason="needs training")]),
    st.sampled_from(["successful"] * 5 + ["unsuccessful"]).map(
        lambda o: lambda on: [_ev("CaseClosed", closed_on=on, outcome=o)]
    ),
    st.integers(0, 40).map(lambda k: lambda on: [("retract", k)]),
)


@pytest.fixture(scope="module")
async def own_api(databases: Any) -> AsyncIterator[tuple[Api, asyncpg.Pool]]:
    """A database of this module's own, so each rebuild() covers only these few cases."""
    url = await databases.create()
    pool = await create_pool(url, min_size=1, max_size=6)
    async for api in make_api(url, pool):
        yield api, pool
    await pool.close()


async def _live(conn: asyncpg.Connection, case_id: str) -> tuple[Any, ...]:
    clock = await conn.fetchrow(f"SELECT {STORED_COLUMNS} FROM closure_clock WHERE case_id = $1", case_id)
    ledger = await conn.fetch("SELECT detail FROM ledger_pba WHERE case_id = $1 ORDER BY pba_id", case_id)
    return (None if clock is None else stored_clock_row(clock)), [r["detail"] for r in ledger]


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(supported_employment=st.booleans(), steps=st.lists(step, min_size=8, max_size=30))
async def test_live_read_models_are_the_fold_of_the_log_and_what_rebuild_writes(
    own_api: tuple[Api, asyncpg.Pool], supported_employment: bool, steps: list[Any]
) -> None:
    api, pool = own_api
    case_id, sent = f"prop-{uuid.uuid4().hex[:12]}", []
    opened = _ev(
        "CaseOpened",
        opened_on="2024-01-01",
        supported_employment=supported_employment,
        ipe_service_categories=["job_coaching"],
    )
    days = [(_DAY0 + timedelta(days=7 * i)).isoformat() for i in range(len(steps))]
    for proposal in [opened, *(e for on, make in zip(days, steps, strict=True) for e in make(on))]:
        if isinstance(proposal, tuple):  # a retraction of the k-th event sent so far
            proposal = _ev("EventRetracted", retracted_event_id=sent[proposal[1] % len(sent)], reason="error")
        event_id = str(uuid.uuid4())
        await api.append(case_id, {**proposal, "event_id": event_id})
        sent.append(event_id)

    async with pool.acquire() as conn:
        facts = [to_fact(e) for e in await store.read_stream(conn, case_id)]
        expected = replay(facts)
        expected_rows = (
            clock_row(expected, DEFAULT_POLICY),
            sorted(ledger_rows(expected, DEFAULT_POLICY), key=lambda r: r["pba_id"]),
        )
        snapshot = await conn.fetchrow(
            "SELECT version, state_version, state FROM case_state WHERE case_id = $1", case_id
        )
        assert snapshot["version"] == len(facts)
        assert SNAPSHOT.validate_python(snapshot["state"]) == replay(facts[: snapshot["state_version"]])
        assert await case_state(conn, case_id) == (expected, len(facts))
        assert await _live(conn, case_id) == expected_rows

    # GET closure-clock answers from the stored row; as known at a moment it folds the
    # events. Both must say the same on any evaluation date.
    for as_of in (days[0], days[len(days) // 2], days[-1], "2025-06-30"):
        stored = await api.get(f"/cases/{case_id}/closure-clock", params={"as_of": as_of})
        folded = await api.get(
            f"/cases/{case_id}/closure-clock",
            params={"as_of": as_of, "known_at": "2999-01-01T00:00:00Z"},
        )
        assert stored.status_code == folded.status_code == 200
        assert stored.json() == folded.json()

    report = await rebuild(pool, DEFAULT_POLICY)
    assert report.equal, report.text()
    async with pool.acquire() as conn:
        assert await _live(conn, case_id) == expected_rows
        assert await case_state(conn, case_id) == (expected, len(facts))
        kept = await conn.fetchrow("SELECT state_version, state FROM case_state WHERE case_id = $1", case_id)
    assert SNAPSHOT.validate_python(kept["state"]) == replay(facts[: kept["state_version"]])
