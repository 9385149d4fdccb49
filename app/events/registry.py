"""One registry maps each stable event type name to its schema and its upcasters.

Stored payloads keep the `schema_version` they were written with (the hash chain
covers them as written); readers bring them up to the current shape here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

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
from app.events.retention import CaseRecordsDestroyed, LegalHoldLifted, LegalHoldPlaced
from app.events.types import EventData

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]

EVENT_TYPES: Mapping[str, type[EventData]] = {
    model.TYPE: model
    for model in (
        CaseOpened,
        IPEAmended,
        EmploymentStarted,
        EmploymentEnded,
        EmploymentFollowUpCancelled,
        CaseClosed,
        AuthorizationIssued,
        AuthorizationPaid,
        AuthorizationCancelled,
        M4Ended,
        PBAOpened,
        PBAMilestoneReached,
        PBAEnded,
        EventRetracted,
        LegalHoldPlaced,
        LegalHoldLifted,
        CaseRecordsDestroyed,
    )
}


def _employment_started_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Older case-system exports wrote the wage as whole cents (`hourly_wage_cents`)."""
    upgraded = {key: value for key, value in data.items() if key != "hourly_wage_cents"}
    cents = data.get("hourly_wage_cents")
    if isinstance(cents, int) and not isinstance(cents, bool):
        upgraded["hourly_wage"] = str((Decimal(cents) / 100).quantize(Decimal("0.01")))
    return upgraded


UPCASTERS: Mapping[tuple[str, int], Upcaster] = {
    ("EmploymentStarted", 1): _employment_started_v1_to_v2,
}


class UnknownEventType(ValueError):
    """The `type` names no event of the contract."""


class UnsupportedSchemaVersion(ValueError):
    """The `schema_version` is newer than this service or has no upcaster."""


def current_schema_version(event_type: str) -> int:
    return model_for(event_type).SCHEMA_VERSION


def model_for(event_type: str) -> type[EventData]:
    try:
        return EVENT_TYPES[event_type]
    except KeyError:
        raise UnknownEventType(event_type) from None


def upcast(event_type: str, schema_version: int, data: dict[str, Any]) -> dict[str, Any]:
    """Bring a payload written at `schema_version` up to the type's current shape."""
    target = current_schema_version(event_type)
    if schema_version > target or schema_version < 1:
        raise UnsupportedSchemaVersion(
            f"{event_type} schema_version {schema_version} is not supported (current {target})"
        )
    while schema_version < target:
        step = UPCASTERS.get((event_type, schema_version))
        if step is None:
            raise UnsupportedSchemaVersion(f"no upcaster from {event_type} schema_version {schema_version}")
        data = step(data)
        schema_version += 1
    return data


def parse_event(event_type: str, data: Mapping[str, Any], schema_version: int | None = None) -> EventData:
    """Validate a payload into its event model, upcasting an older shape first.

    Raises UnknownEventType, UnsupportedSchemaVersion or pydantic's ValidationError.
    """
    model = model_for(event_type)
    version = model.SCHEMA_VERSION if schema_version is None else schema_version
    return model.model_validate(upcast(event_type, version, dict(data)))


__all__ = [
    "EVENT_TYPES",
    "UnknownEventType",
    "UnsupportedSchemaVersion",
    "ValidationError",
    "current_schema_version",
    "model_for",
    "parse_event",
    "upcast",
]
