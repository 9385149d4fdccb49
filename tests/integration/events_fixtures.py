"""Plain payloads for HTTP tests: one builder per event type, with defaults a case system would send."""

from __future__ import annotations

from typing import Any


def ev(event_type: str, **data: Any) -> dict[str, Any]:
    return {"type": event_type, "data": data}


def case_opened(on: str = "2024-01-02", *, se: bool = False, categories: tuple[str, ...] = ("job_coaching",)) -> dict[str, Any]:
    return ev("CaseOpened", opened_on=on, supported_employment=se, ipe_service_categories=list(categories))


def employment_started(job_id: str = "j1", start: str = "2024-02-01", *, soc: str = "35-2014", **extra: Any) -> dict[str, Any]:
    return ev("EmploymentStarted", job_id=job_id, start_date=start, employer="Acme Foods", soc_code=soc,
              hours_per_week=30, hourly_wage="15.50", **extra)


def authorization(auth_id: str, start: str, end: str, *, provider: str = "prov-1", category: str = "job_coaching",
                  amount: str = "500.00", **extra: Any) -> dict[str, Any]:
    return ev("AuthorizationIssued", authorization_id=auth_id, provider_id=provider, service_category=category,
              start_date=start, end_date=end, amount=amount, **extra)


def paid(auth_id: str, on: str, amount: str = "500.00", *, in_full: bool = True) -> dict[str, Any]:
    return ev("AuthorizationPaid", authorization_id=auth_id, payment_date=on, amount=amount, paid_in_full=in_full)
