"""The append request's body: `AppendIn`, and the body read once into proposed events.

The usual body, JSON that orjson reads into exactly what `AppendIn` would accept as it
stands, becomes `Proposed` events at once (`proposed_of`), whose `data` the handler
validates (once) against its event model. Anything else is validated as FastAPI would
validate a JSON body (`validated`: lax, "0" is 0), with FastAPI's answers to bad input:
422 `invalid_event` naming each field, 422 for malformed JSON, 400 for a body that is not
UTF-8 text.
"""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

import orjson
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from app.service.validate import Proposed
from app.web.plain import located
from app.web.problems import Problem

# One place for the envelope's bounds: the documented models and the fast path below.
MAX_EVENTS_PER_APPEND = 1000
EVENT_TYPE_MAX_LENGTH = 64


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    event_id: UUID | None = Field(
        None, description="Client-chosen id; a retry with the same id and content is a no-op"
    )
    type: str = Field(min_length=1, max_length=EVENT_TYPE_MAX_LENGTH)
    data: dict[str, Any]
    metadata: dict[str, Any] | None = Field(
        None,
        description="source, correlation_id, causation_id, free keys; `actor` is set by the server",
    )


class AppendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    expected_version: int | None = Field(None, ge=0, description="0: the stream must not exist yet")
    events: list[EventIn] = Field(min_length=1, max_length=MAX_EVENTS_PER_APPEND)


APPEND_IN = TypeAdapter(AppendIn)

_UUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
_EVENT_KEYS = frozenset(("event_id", "type", "data", "metadata"))


def proposed_of(body: bytes) -> tuple[int | None, list[Proposed]] | None:
    """(expected_version, events) when `body` is JSON that `AppendIn` accepts as it stands
    (no coercion needed); None for anything else, which `validated` then judges."""
    try:
        raw = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if type(raw) is not dict:
        return None
    events = raw.get("events")
    if type(events) is not list or not 1 <= len(events) <= MAX_EVENTS_PER_APPEND:
        return None
    expected = raw.get("expected_version")
    if len(raw) != 1 + ("expected_version" in raw) or (
        expected is not None and (type(expected) is not int or expected < 0)
    ):
        return None
    proposed = []
    for event in events:
        if type(event) is not dict or not event.keys() <= _EVENT_KEYS:
            return None
        event_type, data = event.get("type"), event.get("data")
        if (
            type(event_type) is not str
            or not 1 <= len(event_type) <= EVENT_TYPE_MAX_LENGTH
            or type(data) is not dict
        ):
            return None
        metadata = event.get("metadata")
        if metadata is not None and type(metadata) is not dict:
            return None
        event_id = event.get("event_id")
        if event_id is not None:
            if type(event_id) is not str or not _UUID.fullmatch(event_id):
                return None
            event_id = UUID(event_id)
        proposed.append(Proposed(event_type, data, event_id, metadata or {}))
    return expected, proposed


def is_json_media(content_type: str | None) -> bool:
    """`application/json` or `application/...+json`, parameters aside (as FastAPI reads it)."""
    if not content_type:
        return False
    kind = content_type.partition(";")[0].strip().lower()
    return kind.startswith("application/") and (kind == "application/json" or kind.endswith("+json"))


def validated(body: bytes, json_media: bool) -> AppendIn:
    """The body as `AppendIn` (lax, as FastAPI validates a JSON body), or FastAPI's answer:
    422 naming each field (`invalid_event`), 400 for a body that is not UTF-8 text."""
    if not body:
        raise RequestValidationError([{"type": "missing", "loc": ("body",), "msg": "Field required"}])
    value: Any = body
    if json_media:
        try:
            value = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            try:
                body.decode()
            except UnicodeDecodeError:
                raise Problem(400, "malformed_request", "There was an error parsing the body") from None
            error = {"type": "json_invalid", "loc": ("body", exc.pos), "msg": "JSON decode error"}
            raise RequestValidationError([{**error, "ctx": {"error": exc.msg}}]) from None
    try:
        return APPEND_IN.validate_python(value)
    except ValidationError as exc:
        raise RequestValidationError(located(exc.errors(include_url=False), lambda _: "body")) from None
