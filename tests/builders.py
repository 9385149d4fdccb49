"""The one module of test event builders: one builder per event type.

Each builder returns the plain payload a case system sends (`{"type", "data"}`),
with defaults a case system would send; HTTP, import and fault tests post it as
is, and the pure-rule tests turn it into a validated event with `typed`. A test
that needs other defaults passes them, so the shape of each event is written
here once.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from app.events import parse_event
from app.events.types import EventData


def ev(event_type: str, **data: Any) -> dict[str, Any]:
    """Any event's payload; fields given as None are left out (optional fields)."""
    return {"type": event_type, "data": {k: v for k, v in data.items() if v is not None}}


def event(event_type: str, **data: Any) -> EventData:
    """A validated event, e.g. event("CaseOpened", opened_on="2024-01-02", ...)."""
    return parse_event(event_type, data)


def typed(payload: dict[str, Any]) -> EventData:
    """The validated event of a payload, for tests of the pure rules."""
    return parse_event(payload["type"], payload["data"])


def import_line(
    case_id: str, payload: dict[str, Any], event_id: str | None = None, *, source: str = "qe2-export"
) -> bytes:
    """One line of a bulk-import export (JSON Lines), as the state's case system writes it."""
    line = {"case_id": case_id, "event_id": event_id or str(uuid.uuid4()), **payload}
    return orjson.dumps({**line, "metadata": {"source": source}})


def case_opened(
    on: str = "2024-01-02", *, se: bool = False, categories: tuple[str, ...] = ("job_coaching",)
) -> dict[str, Any]:
    return ev("CaseOpened", opened_on=on, supported_employment=se, ipe_service_categories=list(categories))


def employment_started(
    job_id: str = "j1",
    start: str = "2024-02-01",
    *,
    soc: str = "35-2014",
    employer: str = "Acme Foods",
    hourly_wage: str = "15.50",
    **extra: Any,
) -> dict[str, Any]:
    return ev(
        "EmploymentStarted",
        job_id=job_id,
        start_date=start,
        employer=employer,
        soc_code=soc,
        hours_per_week=30,
        hourly_wage=hourly_wage,
        **extra,
    )


def authorization(
    auth_id: str,
    start: str,
    end: str,
    *,
    provider: str = "prov-1",
    category: str = "job_coaching",
    amount: str = "500.00",
    **extra: Any,
) -> dict[str, Any]:
    return ev(
        "AuthorizationIssued",
        authorization_id=auth_id,
        provider_id=provider,
        service_category=category,
        start_date=start,
        end_date=end,
        amount=amount,
        **extra,
    )


def paid(auth_id: str, on: str, amount: str = "500.00", *, in_full: bool = True) -> dict[str, Any]:
    return ev(
        "AuthorizationPaid",
        authorization_id=auth_id,
        payment_date=on,
        amount=amount,
        paid_in_full=in_full,
    )


# --- more builders (HTTP tests of the clock, the ledger and the contract) -------------------


def with_id(event: dict[str, Any], event_id: Any, **metadata: Any) -> dict[str, Any]:
    """The same event with a client-chosen event_id (and optional metadata)."""
    out = {**event, "event_id": str(event_id)}
    if metadata:
        out["metadata"] = metadata
    return out


def employment_ended(
    job_id: str = "j1", end: str = "2024-03-01", *, reason: str = "laid off"
) -> dict[str, Any]:
    return ev("EmploymentEnded", job_id=job_id, end_date=end, reason=reason)


def follow_up_cancelled(on: str, *, reason: str = "needs training beyond the current job") -> dict[str, Any]:
    return ev("EmploymentFollowUpCancelled", cancelled_on=on, reason=reason)


def case_closed(on: str, *, outcome: str = "successful", **extra: Any) -> dict[str, Any]:
    return ev("CaseClosed", closed_on=on, outcome=outcome, **extra)


def ipe_amended(on: str, *, added: tuple[str, ...] = (), **extra: Any) -> dict[str, Any]:
    return ev("IPEAmended", amended_on=on, service_categories_added=list(added), **extra)


def cancelled(auth_id: str, on: str) -> dict[str, Any]:
    return ev("AuthorizationCancelled", authorization_id=auth_id, cancelled_on=on)


def m4_ended(on: str, **extra: Any) -> dict[str, Any]:
    return ev("M4Ended", end_date=on, **extra)


def retracted(event_id: Any, *, reason: str = "recorded in error") -> dict[str, Any]:
    return ev("EventRetracted", retracted_event_id=str(event_id), reason=reason)


def pba_opened(pba_id: str, provider: str, on: str = "2024-01-05") -> dict[str, Any]:
    return ev("PBAOpened", pba_id=pba_id, provider_id=provider, opened_on=on)


def pba_ended(pba_id: str, on: str, *, reason: str = "significant_amendment") -> dict[str, Any]:
    return ev("PBAEnded", pba_id=pba_id, ended_on=on, reason=reason)


def milestone_authorization(
    auth_id: str,
    pba_id: str,
    milestone: str,
    *,
    provider: str,
    start: str = "2024-01-05",
    end: str = "2024-01-31",
    amount: str = "1000.00",
    category: str = "job_placement",
) -> dict[str, Any]:
    return authorization(
        auth_id,
        start,
        end,
        provider=provider,
        category=category,
        amount=amount,
        pba_id=pba_id,
        milestone=milestone,
    )


def milestone_reached(pba_id: str, milestone: str, on: str, auth_id: str, **evidence: Any) -> dict[str, Any]:
    """A provider's milestone claim with the evidence given (see `plan_signed`, `job_hire`)."""
    return ev(
        "PBAMilestoneReached",
        pba_id=pba_id,
        milestone=milestone,
        reached_on=on,
        authorization_id=auth_id,
        **evidence,
    )


def plan_signed(
    pba_id: str,
    auth_id: str,
    on: str = "2024-01-10",
    *,
    signed_by: tuple[str, ...] = ("consumer", "provider", "vr_staff"),
    face_to_face: bool = True,
) -> dict[str, Any]:
    evidence = {"signed_by": list(signed_by), "face_to_face": face_to_face}
    return milestone_reached(pba_id, "placement_plan_signed", on, auth_id, **evidence)


def job_hire(
    pba_id: str,
    auth_id: str,
    on: str = "2024-02-02",
    *,
    job_id: str = "j1",
    first_paid_shift_on: str | None = None,
    placement_type: str = "individual",
    provider_is_employer: bool = False,
    job_source: str = "pba",
) -> dict[str, Any]:
    return milestone_reached(
        pba_id,
        "job_hire",
        on,
        auth_id,
        job_id=job_id,
        first_paid_shift_on=first_paid_shift_on or on,
        placement_type=placement_type,
        provider_is_employer=provider_is_employer,
        job_source=job_source,
    )


def successful_placement(pba_id: str, auth_id: str, on: str) -> dict[str, Any]:
    return milestone_reached(pba_id, "successful_placement", on, auth_id)
