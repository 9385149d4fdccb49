"""Event schemas: one pydantic model per event type of the integration contract."""

from app.events.authorizations import (
    AuthorizationCancelled,
    AuthorizationIssued,
    AuthorizationPaid,
    M4Ended,
)
from app.events.case import (
    CaseClosed,
    CaseOpened,
    EmploymentEnded,
    EmploymentFollowUpCancelled,
    EmploymentStarted,
    IPEAmended,
)
from app.events.corrections import EventRetracted
from app.events.pba import PBAEnded, PBAMilestoneReached, PBAOpened
from app.events.registry import EVENT_TYPES, parse_event
from app.events.retention import CaseRecordsDestroyed, LegalHoldLifted, LegalHoldPlaced
from app.events.types import MILESTONE_ORDER, EventData, Milestone

__all__ = [
    "EVENT_TYPES",
    "MILESTONE_ORDER",
    "AuthorizationCancelled",
    "AuthorizationIssued",
    "AuthorizationPaid",
    "CaseClosed",
    "CaseOpened",
    "CaseRecordsDestroyed",
    "EmploymentEnded",
    "EmploymentFollowUpCancelled",
    "EmploymentStarted",
    "EventData",
    "EventRetracted",
    "IPEAmended",
    "LegalHoldLifted",
    "LegalHoldPlaced",
    "M4Ended",
    "Milestone",
    "PBAEnded",
    "PBAMilestoneReached",
    "PBAOpened",
    "parse_event",
]
