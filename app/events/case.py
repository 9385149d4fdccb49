"""Case and employment events (contract section 2, "Case and employment")."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from app.events.types import (
    CalendarDate,
    Category,
    EventData,
    Flag,
    Hours,
    Identifier,
    SocCode,
    Text,
    Wage,
)


class CaseOpened(EventData):
    TYPE = "CaseOpened"
    opened_on: CalendarDate
    supported_employment: Flag
    ipe_service_categories: list[Category]


class IPEAmended(EventData):
    TYPE = "IPEAmended"
    amended_on: CalendarDate
    service_categories_added: list[Category]
    supported_employment: Flag | None = None
    accepts_job_id: Identifier | None = None


class EmploymentStarted(EventData):
    """The employment outcome: the case enters Employment Follow-up (EF).

    Schema version 2 writes `hourly_wage` in dollars; version 1 (older case
    system exports) wrote `hourly_wage_cents`, see `app.events.registry`.
    """

    TYPE = "EmploymentStarted"
    SCHEMA_VERSION = 2
    job_id: Identifier
    start_date: CalendarDate
    employer: Text
    soc_code: SocCode
    hours_per_week: Hours
    hourly_wage: Wage
    career_pathway: Text | None = None
    temporary: Flag | None = None
    continuous_with_job_id: Identifier | None = None

    @model_validator(mode="after")
    def _not_continuous_with_itself(self) -> EmploymentStarted:
        if self.continuous_with_job_id == self.job_id:
            raise ValueError("continuous_with_job_id must name an earlier, different job")
        return self


class EmploymentEnded(EventData):
    TYPE = "EmploymentEnded"
    job_id: Identifier
    end_date: CalendarDate
    reason: Text


class EmploymentFollowUpCancelled(EventData):
    """The "Cancel EF" button: the needed service is not a post-employment service."""

    TYPE = "EmploymentFollowUpCancelled"
    cancelled_on: CalendarDate
    reason: Text


class CaseClosed(EventData):
    TYPE = "CaseClosed"
    closed_on: CalendarDate
    outcome: Literal["successful", "unsuccessful"]
    reason: Text | None = None
