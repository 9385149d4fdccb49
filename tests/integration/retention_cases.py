"""Cases for the retention tests (issue 13, item 3): each with personal values easy to spot.

Closures are in 2024 and the policy is given `retention_years` 2 from 2000 (adopted over
HTTP), so the old cases are due on any run date from 2026-06 on; the recent case closes 60
days before the run, whatever the date the suite runs on.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tests.builders import (
    case_closed,
    case_opened,
    employment_ended,
    employment_started,
    ev,
    job_hire,
    milestone_authorization,
    paid,
    pba_opened,
    plan_signed,
)
from tests.conftest import Api


def today() -> date:
    return datetime.now(UTC).date()


def secret(label: str) -> str:
    """A personal value no other test writes."""
    return f"{label} Rivera-{uuid.uuid4().hex[:12]}"


@dataclass
class Case:
    case_id: str
    personal: list[str] = field(default_factory=list)


async def ok(api: Api, case_id: str, *events: dict[str, Any], role: str = "case_system") -> None:
    r = await api.append(case_id, *events, role=role)
    assert r.status_code == 201, r.text


def hold(on: str, reason: str) -> dict[str, Any]:
    return ev("LegalHoldPlaced", placed_on=on, reason=reason)


def lift(on: str, reason: str) -> dict[str, Any]:
    return ev("LegalHoldLifted", lifted_on=on, reason=reason)


async def pba_closed(api: Api, label: str) -> Case:
    """A PBA case: plan signed and paid, job hired and paid, closed successful on 2024-06-01;
    a note in metadata, an employer and a career pathway, a closure reason."""
    case = Case(f"{label}-{uuid.uuid4().hex[:8]}")
    employer, pathway, note, reason = (secret(x) for x in ("Bakery", "pastry", "note", "moved"))
    case.personal += [employer, pathway, note, reason]
    provider = f"prov-{uuid.uuid4().hex[:8]}"
    auths = [
        milestone_authorization("AP", "pba-1", "placement_plan_signed", provider=provider, amount="1000.00"),
        milestone_authorization(
            "AH", "pba-1", "job_hire", provider=provider, end="2024-03-31", amount="1300.00"
        ),
    ]
    job = {**employment_started("j1", "2024-02-01", employer=employer, career_pathway=pathway)}
    job["metadata"] = {"note": note}
    await ok(api, case.case_id, case_opened(), pba_opened("pba-1", provider, "2024-01-05"), *auths)
    await ok(
        api,
        case.case_id,
        plan_signed("pba-1", "AP", "2024-01-10"),
        job,
        job_hire("pba-1", "AH", "2024-02-02", job_id="j1"),
        paid("AP", "2024-01-20", "1000.00"),
        paid("AH", "2024-02-15", "1300.00"),
        case_closed("2024-06-01", reason=reason),
    )
    return case


async def ended_and_closed(api: Api, label: str, *, opened: date, closed: date) -> Case:
    """A job started and ended (with a reason), then closed unsuccessful (with a reason)."""
    case = Case(f"{label}-{uuid.uuid4().hex[:8]}")
    employer, ended, reason = secret("Hardware"), secret("left"), secret("closed")
    case.personal += [employer, ended, reason]
    start, end = opened + timedelta(days=10), opened + timedelta(days=40)
    await ok(
        api,
        case.case_id,
        case_opened(opened.isoformat()),
        employment_started("j1", start.isoformat(), employer=employer),
        employment_ended("j1", end.isoformat(), reason=ended),
        case_closed(closed.isoformat(), outcome="unsuccessful", reason=reason),
    )
    return case


async def still_open(api: Api) -> Case:
    case = Case(f"open-{uuid.uuid4().hex[:8]}")
    employer = secret("Nursery")
    case.personal.append(employer)
    await ok(
        api,
        case.case_id,
        case_opened("2020-01-02"),
        employment_started("j1", "2020-02-01", employer=employer),
    )
    return case


async def without_personal_values(api: Api) -> Case:
    """Closed in 2024, no personal value ever: the case never had a data key."""
    case = Case(f"bare-{uuid.uuid4().hex[:8]}")
    await ok(api, case.case_id, case_opened(), case_closed("2024-04-01", outcome="unsuccessful"))
    return case
