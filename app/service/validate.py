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
