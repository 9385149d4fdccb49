"""A synthetic case-system export (NDJSON) for benchmarks and tests of `caseledger import`.

Each case follows a life a VR agency would recognise: opened, a PBA with its three
pre-authorized milestones, a job, a post-employment service paid in full, the 90
days, the successful placement and a successful closure (14 events). Dates are
spread per case so the read models are not all alike. Event ids derive from the
case number, so generating the same file twice gives the same ids (a re-import
is then a no-op).

    python -m app.operations_sample OUT.ndjson --cases 80000 [--interleave]
"""

from __future__ import annotations

import argparse
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson

_NAMESPACE = uuid.UUID("6f1d3c1e-8f55-4f77-9a9b-5b2a4c0e7d10")
_BASE = date(2024, 1, 2)
EVENTS_PER_CASE = 14


def event_id(case_id: str, n: int) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{case_id}/{n}"))


def _milestone_auth(n: int, pba: str, milestone: str, on: date, amount: str) -> dict[str, Any]:
    return {
        "type": "AuthorizationIssued",
        "data": {
            "authorization_id": f"a-{milestone[:4]}-{n}",
            "provider_id": "prov-1",
            "service_category": "job_placement",
            "start_date": on.isoformat(),
            "end_date": (on + timedelta(days=400)).isoformat(),
            "amount": amount,
            "pba_id": pba,
            "milestone": milestone,
        },
    }


def case_events(n: int) -> list[dict[str, Any]]:
    """The 14 events of case number `n` (type and data only)."""
    d0 = _BASE + timedelta(days=n % 300)
    job_on, pes_end = d0 + timedelta(days=30), d0 + timedelta(days=60)
    placed = pes_end + timedelta(days=95)
    pba = f"pba-{n}"
    day = date.isoformat
    return [
        {
            "type": "CaseOpened",
            "data": {
                "opened_on": day(d0),
                "supported_employment": False,
                "ipe_service_categories": ["job_coaching", "job_placement"],
            },
        },
        {
            "type": "PBAOpened",
            "data": {"pba_id": pba, "provider_id": "prov-1", "opened_on": day(d0)},
        },
        _milestone_auth(n, pba, "placement_plan_signed", d0, "1000.00"),
        {
            "type": "PBAMilestoneReached",
            "data": {
                "pba_id": pba,
                "milestone": "placement_plan_signed",
                "reached_on": day(d0 + timedelta(days=7)),
                "authorization_id": f"a-plac-{n}",
                "signed_by": ["consumer", "provider", "vr_staff"],
                "face_to_face": True,
            },
        },
        _milestone_auth(n, pba, "job_hire", d0, "1300.00"),
        {
            "type": "EmploymentStarted",
            "data": {
                "job_id": f"job-{n}",
                "start_date": day(job_on),
                "employer": "Acme Foods",
                "soc_code": "35-2014",
                "hours_per_week": 30,
                "hourly_wage": "15.50",
            },
        },
        {
            "type": "PBAMilestoneReached",
            "data": {
                "pba_id": pba,
                "milestone": "job_hire",
                "reached_on": day(job_on),
                "authorization_id": f"a-job_-{n}",
                "job_id": f"job-{n}",
                "first_paid_shift_on": day(job_on),
                "placement_type": "individual",
                "provider_is_employer": False,
                "job_source": "pba",
            },
        },
        {
            "type": "AuthorizationIssued",
            "data": {
                "authorization_id": f"pes-{n}",
                "provider_id": "prov-2",
                "service_category": "job_coaching",
                "start_date": day(job_on),
                "end_date": day(pes_end),
                "amount": "480.00",
                "post_employment": True,
            },
        },
        {
            "type": "AuthorizationPaid",
            "data": {
                "authorization_id": f"pes-{n}",
                "payment_date": day(pes_end),
                "amount": "480.00",
                "paid_in_full": True,
            },
        },
        {
            "type": "AuthorizationPaid",
            "data": {
                "authorization_id": f"a-plac-{n}",
                "payment_date": day(d0 + timedelta(days=20)),
                "amount": "1000.00",
                "paid_in_full": True,
            },
        },
        {
            "type": "AuthorizationPaid",
            "data": {
                "authorization_id": f"a-job_-{n}",
                "payment_date": day(job_on + timedelta(days=10)),
                "amount": "1300.00",
                "paid_in_full": True,
            },
        },
        _milestone_auth(n, pba, "successful_placement", d0, "1500.00"),
        {
            "type": "PBAMilestoneReached",
            "data": {
                "pba_id": pba,
                "milestone": "successful_placement",
                "reached_on": day(placed),
                "authorization_id": f"a-succ-{n}",
            },
        },
        {"type": "CaseClosed", "data": {"closed_on": day(placed), "outcome": "successful"}},
    ]


def export_lines(cases: int, *, first: int = 0, interleave: bool = False) -> Iterator[bytes]:
    """NDJSON lines; `interleave` writes event k of every case before event k+1 of any
    (cases spread over many batches, as an export ordered by time would be)."""

    def line(n: int, k: int, event: dict[str, Any]) -> bytes:
        case_id = f"QE2-{n:08d}"
        return (
            orjson.dumps(
                {
                    "case_id": case_id,
                    "event_id": event_id(case_id, k),
                    **event,
                    "metadata": {"source": "qe2-export"},
                }
            )
            + b"\n"
        )

    if not interleave:
        for n in range(first, first + cases):
            yield from (line(n, k, e) for k, e in enumerate(case_events(n)))
        return
    chunk = 2000  # a case's events lie within a window of this many cases
    for start in range(first, first + cases, chunk):
        numbers = range(start, min(start + chunk, first + cases))
        per_case = {n: case_events(n) for n in numbers}
        for k in range(EVENTS_PER_CASE):
            yield from (line(n, k, per_case[n][k]) for n in numbers)


def write_export(path: Path, cases: int, *, interleave: bool = False) -> int:
    with path.open("wb") as out:
        out.writelines(export_lines(cases, interleave=interleave))
    return cases * EVENTS_PER_CASE


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--interleave", action="store_true")
    args = parser.parse_args()
    print(write_export(args.out, args.cases, interleave=args.interleave), "events written")
