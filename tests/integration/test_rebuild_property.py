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
from app.store.pool import Pool
from tests import builders as b
from tests.conftest import Api, make_api

_DAY0 = date(2024, 1, 1)
jobs, auths, pbas = (
    st.sampled_from(["J1", "J2"]),
    st.sampled_from(["A1", "A2", "A3"]),
    st.sampled_from(["P1", "P2"]),
)
categories = st.sampled_from(["job_coaching", "job_placement", "transportation"])
milestones = st.sampled_from(["placement_plan_signed", "job_hire", "successful_placement"])


def _claim(pba: str, milestone: str, on: str, flawed: bool) -> dict[str, Any]:
    """A provider's claim; `flawed` breaks its evidence (no face-to-face meeting, own hire)."""
    auth = f"M-{pba}-{milestone[:4]}"
    if milestone == "placement_plan_signed":
        return b.plan_signed(pba, auth, on, face_to_face=not flawed)
    if milestone == "job_hire":
        return b.job_hire(pba, auth, on, job_id="J1", provider_is_employer=flawed)
    return b.successful_placement(pba, auth, on)


def _pba_opened(pba: str, on: str) -> list[dict[str, Any]]:
    """A PBA with its three milestones pre-authorized, as VR staff would set it up."""
    return [b.pba_opened(pba, "prov-1", on)] + [
        b.milestone_authorization(f"M-{pba}-{m[:4]}", pba, m, provider="prov-1", start=on, end=on)
        for m in ("placement_plan_signed", "job_hire", "successful_placement")
    ]


def _job(job: str, on: str, temporary: bool, continues: str | None) -> dict[str, Any]:
    continuous = continues if continues != job else None
    return b.employment_started(
        job, on, employer="Acme", temporary=temporary, continuous_with_job_id=continuous
    )


# Each step is what a case system or provider sends on the step's day (a week apart, so
# dates mostly move forward as in real life and the 90 days can pass).
step = st.one_of(
    st.tuples(jobs, st.booleans(), st.sampled_from([None, "J1", "J2"])).map(
        lambda t: lambda on: [_job(*t[:1], on, *t[1:])]
    ),
    jobs.map(lambda j: lambda on: [b.employment_ended(j, on)]),
    st.tuples(auths, st.booleans(), categories).map(
        lambda t: (
            lambda on: [
                b.authorization(
                    t[0], on, on, provider="prov-2", category=t[2], amount="200.00", post_employment=t[1]
                )
            ]
        )
    ),
    st.tuples(st.one_of(auths, st.sampled_from(["M-P1-plac", "M-P1-job_", "M-P2-plac"])), st.booleans()).map(
        lambda t: lambda on: [b.paid(t[0], on, "200.00", in_full=t[1])]
    ),
    auths.map(lambda a: lambda on: [b.cancelled(a, on)]),
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
    pbas.map(lambda p: lambda on: [b.pba_ended(p, on)]),
    categories.map(lambda c: lambda on: [b.ipe_amended(on, added=(c,))]),
    st.just(lambda on: [b.m4_ended(on)]),
    st.just(lambda on: [b.follow_up_cancelled(on, reason="needs training")]),
    st.sampled_from(["successful"] * 5 + ["unsuccessful"]).map(
        lambda o: lambda on: [b.case_closed(on, outcome=o)]
    ),
    st.integers(0, 40).map(lambda k: lambda on: [("retract", k)]),
)


@pytest.fixture(scope="module")
async def own_api(databases: Any) -> AsyncIterator[tuple[Api, Pool]]:
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
    own_api: tuple[Api, Pool], supported_employment: bool, steps: list[Any]
) -> None:
    api, pool = own_api
    case_id, sent = f"prop-{uuid.uuid4().hex[:12]}", []
    opened = b.case_opened("2024-01-01", se=supported_employment)
    days = [(_DAY0 + timedelta(days=7 * i)).isoformat() for i in range(len(steps))]
    for proposal in [opened, *(e for on, make in zip(days, steps, strict=True) for e in make(on))]:
        if isinstance(proposal, tuple):  # a retraction of the k-th event sent so far
            proposal = b.retracted(sent[proposal[1] % len(sent)], reason="error")
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
