"""How a retention run behaves when it is interrupted or raced (docs/privacy.md, "Retention").

Each test has a database of its own: a run walks every closed case.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from app.domain.data_keys import AesGcmMasterKey
from app.domain.policy import DEFAULT_POLICY
from app.domain.sealing import DESTROYED
from app.ops.retention import run_retention
from app.service import retention as retention_service
from app.service.append import AppendHandler
from app.service.case_keys import CaseKeys
from app.service.errors import ServiceError
from app.service.keys import Principal
from app.service.validate import Proposed
from app.store import data_keys
from app.store import streams as store
from app.store.db import create_pool
from app.store.pool import Pool
from app.store.privileges import app_role_url

WRITER, AUDITOR = Principal("k-ret", "case_system"), Principal("k-aud", "auditor")
EMPLOYER = "Tamarind Print Shop, Rivera family"


@dataclass
class Service:
    pool: Pool  # the app role's
    owner: Pool
    keys: CaseKeys
    handler: AppendHandler

    async def closed_case(self, closed_on: str = "2015-06-30") -> str:
        """A case closed years ago, with an employer (so it has a data key)."""
        case_id = f"ret-{uuid.uuid4().hex[:10]}"
        await self.handler.append(
            WRITER,
            case_id,
            None,
            [
                Proposed(
                    "CaseOpened",
                    {
                        "opened_on": "2014-01-02",
                        "supported_employment": False,
                        "ipe_service_categories": ["job_coaching"],
                    },
                ),
                Proposed(
                    "EmploymentStarted",
                    {
                        "job_id": "j1",
                        "start_date": "2014-02-03",
                        "employer": EMPLOYER,
                        "soc_code": "35-2014",
                        "hours_per_week": 30,
                        "hourly_wage": "15.50",
                    },
                ),
                Proposed("EmploymentEnded", {"job_id": "j1", "end_date": "2014-03-03", "reason": "moved"}),
                Proposed("CaseClosed", {"closed_on": closed_on, "outcome": "unsuccessful"}),
            ],
        )
        return case_id

    async def employer(self, case_id: str) -> str:
        """As a reader that remembers no key reads it (the service's memory: TTL test below)."""
        async with self.pool.acquire() as conn:
            events = await CaseKeys(self.keys.master).opened(conn, await store.read_stream(conn, case_id))
        return next(e.data["employer"] for e in events if e.type == "EmploymentStarted")

    async def destructions(self, case_id: str) -> int:
        async with self.pool.acquire() as conn:
            return sum(e.type == "CaseRecordsDestroyed" for e in await store.read_stream(conn, case_id))


@pytest.fixture
async def service(fresh: tuple[str, Pool]) -> AsyncIterator[Service]:
    url, owner = fresh
    pool = await create_pool(app_role_url(url), min_size=1, max_size=6)
    keys = CaseKeys(AesGcmMasterKey(os.urandom(32)))
    yield Service(pool, owner, keys, AppendHandler(pool, DEFAULT_POLICY, keys=keys))
    await pool.close()


def today() -> date:
    return datetime.now(UTC).date()


class Crash(Exception):
    """The process dies between recording the destruction and destroying the key."""


async def test_a_run_stopped_before_the_key_went_is_completed_by_the_next_run(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id = await service.closed_case()

    async def crash(*args: object) -> list[str]:
        raise Crash

    monkeypatch.setattr(retention_service.data_keys, "destroy_recorded", crash)
    with pytest.raises(Crash):
        await run_retention(service.pool, DEFAULT_POLICY, today=today(), dry_run=False)
    # the record is ahead of the key: still readable, but it takes no new personal value
    assert await service.destructions(case_id) == 1 and await service.employer(case_id) == EMPLOYER
    for who, event in (
        (
            WRITER,
            Proposed("EventRetracted", {"retracted_event_id": str(uuid.uuid4()), "reason": "free text"}),
        ),
        (AUDITOR, Proposed("LegalHoldPlaced", {"placed_on": "2026-01-02", "reason": "Rivera v. State"})),
    ):
        with pytest.raises(ServiceError) as refused:
            await service.handler.append(who, case_id, None, [event])
        assert refused.value.extra["rule"] == "case_records_destroyed"

    monkeypatch.undo()
    report = await run_retention(service.pool, DEFAULT_POLICY, today=today(), dry_run=False)
    assert (report.repaired, report.destroyed) == ([case_id], [])
    assert await service.destructions(case_id) == 1  # nothing appended twice
    assert await service.employer(case_id) == DESTROYED
    again = await run_retention(service.pool, DEFAULT_POLICY, today=today(), dry_run=False)
    assert (again.repaired, again.destroyed, again.refused) == ([], [], [])


async def test_a_hold_placed_while_the_run_reads_its_page_keeps_the_case(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id = await service.closed_case()
    record = retention_service.RetentionRun._record

    async def hold_first(run: retention_service.RetentionRun, due: object) -> str | None:
        hold = Proposed("LegalHoldPlaced", {"placed_on": "2020-01-02", "reason": "Rivera v. State"})
        await service.handler.append(AUDITOR, case_id, None, [hold])
        return await record(run, due)  # type: ignore[arg-type]

    monkeypatch.setattr(retention_service.RetentionRun, "_record", hold_first)
    report = await run_retention(service.pool, DEFAULT_POLICY, today=today(), dry_run=False)
    assert (report.destroyed, report.refused) == ([], [(case_id, "legal_hold_in_force")])
    assert await service.destructions(case_id) == 0 and await service.employer(case_id) == EMPLOYER


async def test_a_case_closed_less_than_the_period_ago_and_a_future_run_date_are_left_alone(
    service: Service,
) -> None:
    recent = await service.closed_case((today() - timedelta(days=5 * 365 - 30)).isoformat())
    report = await run_retention(service.pool, DEFAULT_POLICY, today=today(), dry_run=False)
    assert report.destroyed == [] and report.period_years == 5
    assert await service.employer(recent) == EMPLOYER
    with pytest.raises(ServiceError) as early:
        await run_retention(service.pool, DEFAULT_POLICY, today=today() + timedelta(days=1), dry_run=True)
    assert early.value.code == "invalid_request"


async def test_an_appending_service_learns_of_a_destroyed_key_within_its_ttl(service: Service) -> None:
    moment = [0.0]
    keys = CaseKeys(service.keys.master, clock=lambda: moment[0])
    handler = AppendHandler(service.pool, DEFAULT_POLICY, keys=keys)
    case_id = f"ttl-{uuid.uuid4().hex[:10]}"
    opened = {"opened_on": "2024-01-02", "supported_employment": False, "ipe_service_categories": ["x"]}
    job = {
        "job_id": "j1",
        "start_date": "2024-02-01",
        "employer": EMPLOYER,
        "soc_code": "35-2014",
        "hours_per_week": 30,
        "hourly_wage": "15.50",
    }
    await handler.append(
        WRITER, case_id, None, [Proposed("CaseOpened", opened), Proposed("EmploymentStarted", job)]
    )
    async with service.owner.acquire() as owner:
        assert await data_keys.destroy(owner, case_id, datetime.now(UTC))
    moment[0] += keys.ttl_s + 1
    ended = Proposed("EmploymentEnded", {"job_id": "j1", "end_date": "2024-03-01", "reason": "Rivera moved"})
    with pytest.raises(ServiceError) as refused:
        await handler.append(WRITER, case_id, None, [ended])
    assert refused.value.extra["rule"] == "case_records_destroyed"
