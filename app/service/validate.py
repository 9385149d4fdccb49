"""Schema checks of a proposed batch, before any rule: 422 `invalid_event` names each bad field.

What passes is in the one canonical form (`app.domain.hashing.canonical_json`):
the form that is hashed, stored and given back, so `verify` never sees a number
PostgreSQL rewrote.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

import orjson
from pydantic import ValidationError

from app.domain.hashing import NotCanonical, canonical_json
from app.events import EventData
from app.events.registry import UnknownEventType, UnsupportedSchemaVersion, parse_event
from app.service.errors import ServiceError, validation_errors
from app.service.keys import Principal

# Set by the server, never taken from a client: who appended, and (import only) the rule an
# imported fact broke.
CLIENT_METADATA_KEYS_SET_BY_SERVER = ("actor", "import_finding")

# Who appends what (contract 6, issue 13): a provider only its milestone claims; an auditor
# only legal holds (an audit or a lawsuit suspends the retention schedule, the case system
# does not decide that); the case system everything but holds; an admin everything (contract
# 6: "admin: everything"); `CaseRecordsDestroyed` only the retention run, which is no API key.
PROVIDER_TYPES = frozenset({"PBAMilestoneReached"})
HOLD_TYPES = frozenset({"LegalHoldPlaced", "LegalHoldLifted"})
SYSTEM_TYPES = frozenset({"CaseRecordsDestroyed"})


@dataclass(frozen=True, slots=True)
class Proposed:
    """An event as a client sent it, before validation."""

    type: str
    data: dict[str, Any]
    event_id: UUID | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Validated:
    event_id: UUID
    client_supplied_id: bool
    event: EventData
    data: dict[str, Any]  # canonical: what is hashed and stored
    metadata: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SystemPrincipal(Principal):
    """A command of the service itself (`caseledger retention run`), never an API key or a
    UI session: the only principal that appends `SYSTEM_TYPES`."""

    @property
    def actor(self) -> str:
        return f"system:{self.key_id}"


def role_refusal(principal: Principal, types: Sequence[str]) -> ServiceError | None:
    """403 `forbidden` when the principal may not append one of `types` (see above)."""
    wanted = frozenset(types)
    if isinstance(principal, SystemPrincipal):
        refused = wanted - SYSTEM_TYPES
    elif principal.role == "provider":
        refused = wanted - PROVIDER_TYPES
    elif principal.role == "auditor":
        refused = wanted - HOLD_TYPES
    elif principal.role == "admin":
        refused = wanted & SYSTEM_TYPES
    else:
        refused = wanted & (HOLD_TYPES | SYSTEM_TYPES)
    if not refused:
        return None
    return ServiceError("forbidden", _forbidden(principal, sorted(refused)[0]))


def _forbidden(principal: Principal, event_type: str) -> str:
    if isinstance(principal, SystemPrincipal):
        return f"the retention run appends only CaseRecordsDestroyed, not {event_type}"
    if event_type in SYSTEM_TYPES:
        return "CaseRecordsDestroyed is appended only by `caseledger retention run`, never by an API key"
    if event_type in HOLD_TYPES:
        return "LegalHoldPlaced and LegalHoldLifted are appended by an admin or auditor key"
    if principal.role == "provider":
        return "a provider key may append only PBAMilestoneReached for its own open PBA"
    return f"an auditor key may append only LegalHoldPlaced and LegalHoldLifted, not {event_type}"


def validate(proposed: Sequence[Proposed], principal: Principal) -> list[Validated]:
    validated, errors = [], []
    for index, item in enumerate(proposed):
        found = _checked(item, principal)
        if isinstance(found, Validated):
            validated.append(found)
        else:
            errors.extend({**e, "loc": ["events", index, *e["loc"]]} for e in found)
    if errors:
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors[:5])
        raise ServiceError("invalid_event", detail, errors=errors)
    ids = [v.event_id for v in validated]
    if len(set(ids)) != len(ids):
        raise ServiceError("invalid_event", "the same event_id appears twice in one append")
    return validated


def _checked(item: Proposed, principal: Principal) -> Validated | list[dict[str, Any]]:
    """The validated event, or its errors (each `loc` relative to the event)."""
    try:
        event = parse_event(item.type, item.data)
    except UnknownEventType:
        return [{"loc": ["type"], "msg": f"unknown event type {item.type!r}", "type": "unknown_event_type"}]
    except ValidationError as exc:
        return [{**e, "loc": ["data", *e["loc"]]} for e in validation_errors(exc.errors())]
    except UnsupportedSchemaVersion as exc:
        return [{"loc": ["data"], "msg": str(exc), "type": "schema_version"}]
    metadata = {k: v for k, v in item.metadata.items() if k not in CLIENT_METADATA_KEYS_SET_BY_SERVER}
    metadata["actor"] = principal.actor
    try:
        data, metadata = canonical_json(event.to_json_dict()), canonical_json(metadata)
    except NotCanonical as exc:
        return [{"loc": [], "msg": f"not storable as JSON: {exc}", "type": "unstorable"}]
    unstorable = _unstorable(data, metadata)
    if unstorable:
        return [{"loc": [], "msg": unstorable, "type": "unstorable"}]
    return Validated(item.event_id or uuid4(), item.event_id is not None, event, data, metadata)


def _unstorable(data: dict[str, Any], metadata: dict[str, Any]) -> str | None:
    """PostgreSQL's jsonb holds no NUL character and orjson no integer past 64 bits."""
    try:
        encoded = orjson.dumps([data, metadata])
    except (orjson.JSONEncodeError, TypeError) as exc:
        return f"not storable as JSON: {exc}"
    if b"\\u0000" in encoded:
        return "a NUL character (U+0000) cannot be stored"
    return None
