"""Authorizations and payments (contract section 2, "Authorizations and payments")."""

from __future__ import annotations

from datetime import date

from pydantic import model_validator

from app.events.types import CalendarDate, Category, EventData, Flag, Identifier, Milestone, Money


class AuthorizationIssued(EventData):
    """An authorization of a service, or of a PBA milestone payment (`pba_id` + `milestone`).

    `issued_on` is the business date the authorization was issued on; when absent it
    is the service's `start_date` (see docs/business-time.md): an authorization
    exists on the date its service starts, and not before, for every `as_of` replay.
    It is not filled in when absent, so stored payloads stay as the client sent them
    and a retry of an earlier append compares equal.
    """

    TYPE = "AuthorizationIssued"
    authorization_id: Identifier
    provider_id: Identifier
    service_category: Category
    start_date: CalendarDate
    end_date: CalendarDate
    amount: Money
    post_employment: Flag | None = None
    pba_id: Identifier | None = None
    milestone: Milestone | None = None
    m4: Flag | None = None
    issued_on: CalendarDate | None = None

    @property
    def issued_business_date(self) -> date:
        """`issued_on`, or the service's `start_date` when the case system gave none."""
        return self.issued_on if self.issued_on is not None else self.start_date

    @model_validator(mode="after")
    def _dates_and_milestone(self) -> AuthorizationIssued:
        if self.end_date < self.start_date:
            raise ValueError("end_date must not be before start_date")
        if (self.pba_id is None) != (self.milestone is None):
            raise ValueError("pba_id and milestone go together: give both or neither")
        return self


class AuthorizationPaid(EventData):
    TYPE = "AuthorizationPaid"
    authorization_id: Identifier
    payment_date: CalendarDate
    amount: Money
    paid_in_full: Flag


class AuthorizationCancelled(EventData):
    TYPE = "AuthorizationCancelled"
    authorization_id: Identifier
    cancelled_on: CalendarDate


class M4Ended(EventData):
    """Supported employment: VR and the provider agree the transition to extended services is done."""

    TYPE = "M4Ended"
    end_date: CalendarDate
    authorization_id: Identifier | None = None
