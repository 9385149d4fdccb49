"""Stored events as folds take them, without validating again what the store itself wrote.

Why: a rebuild (and the importer, for the tails of cases it did not write itself) reads
events that passed the schema check when they were appended and were stored in its
normalised form (`EventData.to_json_dict`). Validating them again with pydantic cost
about 4 us per event, a sixth of a rebuild. Here each field is only converted back from
its JSON form (a date from its ISO text, a Decimal from its text, a UUID from its text),
and the model is put together as `BaseModel.model_construct` does, at a fifth of the cost.

Anything that is not plainly the store's own form goes through `parse_event`, which
validates (and raises as it always did): an older `schema_version` (its upcaster), an
unknown type or key, a value that does not convert. A model whose field types are not
all understood here always goes through `parse_event`. Sealed personal values fold as
"[sealed]", as in `app.service.reads.to_fact`. tests/unit/test_rebuild_facts.py checks
that both ways give equal events for every event type.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from app.domain.facts import Fact
from app.domain.personal_data import personal_fields
from app.domain.sealing import blind_sealed_data
from app.events.registry import EVENT_TYPES, parse_event
from app.events.types import EventData

Convert = Callable[[Any], Any] | None
_new, _set = object.__new__, object.__setattr__
# What `model_construct` sets besides __dict__, through BaseModel's own slots (a third
# cheaper than object.__setattr__ by name); the unit test compares with parse_event.
_SET_FIELDS_SET, _SET_EXTRA, _SET_PRIVATE = (
    BaseModel.__dict__[name].__set__
    for name in ("__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")
)


def _decimal(value: Any) -> Decimal:
    """A Decimal as the schema's validators make one: from the text of the stored number."""
    if type(value) is str:
        return Decimal(value)
    if type(value) is int or type(value) is float:
        return Decimal(str(value))
    raise TypeError(value)


# date.fromisoformat and UUID raise TypeError or ValueError on anything but their text.
_CONVERTERS: dict[Any, Convert] = {
    date: date.fromisoformat,
    Decimal: _decimal,
    UUID: UUID,
    str: None,
    int: None,
    bool: None,
}


def _converter(annotation: Any) -> Convert:
    """How a field's stored JSON value becomes the model's value; KeyError when not known."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _converter(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(inner) != 1:
            raise KeyError(annotation)
        return _converter(inner[0])
    if origin is typing.Literal:
        return None
    if origin is list:
        if _converter(typing.get_args(annotation)[0]) is not None:
            raise KeyError(annotation)
        return None
    return _CONVERTERS[annotation]


@dataclass(frozen=True, slots=True)
class _Spec:
    model: type[EventData]
    schema_version: int
    converters: dict[str, Convert]  # every field, in the model's order
    required: frozenset[str]
    personal: bool  # whether a field may hold a sealed value


def _spec(model: type[EventData]) -> _Spec | None:
    """None when a field is not understood here (a type without a converter, or a default
    other than None): that type always goes through `parse_event`."""
    converters = {}
    for name, info in model.model_fields.items():
        if not info.is_required() and info.default is not None:
            return None
        try:
            converters[name] = _converter(info.annotation)
        except KeyError:
            return None
    required = frozenset(n for n, i in model.model_fields.items() if i.is_required())
    return _Spec(model, model.SCHEMA_VERSION, converters, required, bool(personal_fields(model.TYPE)))


_SPECS: dict[str, _Spec] = {name: spec for name, m in EVENT_TYPES.items() if (spec := _spec(m)) is not None}


def stored_event(event_type: str, data: dict[str, Any], schema_version: int) -> EventData:
    """The event model of a stored payload (sealed values read "[sealed]")."""
    return _stored(event_type, data, schema_version)[0]


def _stored(
    event_type: str, data: dict[str, Any], schema_version: int
) -> tuple[EventData, dict[str, Any] | None]:
    """(the event model of a stored payload, the payload when it was in the store's own form
    and so is the event's JSON as it stands: sealed values "[sealed]"; else None)."""
    spec = _SPECS.get(event_type)
    if spec is None or spec.schema_version != schema_version:
        return parse_event(event_type, blind_sealed_data(event_type, data), schema_version), None
    if spec.personal:
        data = blind_sealed_data(event_type, data)
    try:
        return _construct(spec, data), data
    except (TypeError, ValueError, KeyError, ArithmeticError):
        return parse_event(event_type, data, schema_version), None  # says what is wrong


def _construct(spec: _Spec, data: dict[str, Any]) -> EventData:
    """As `model_construct` builds a model (its __dict__ in field order, the fields set, no
    extra or private values), each value converted. Raises where the payload is not in the
    store's form: an unknown or missing field, a null (absent optional fields are left out)."""
    values = dict.fromkeys(spec.converters)
    converters = spec.converters
    for name, value in data.items():
        convert = converters[name]
        if value is None:
            raise KeyError(name)
        values[name] = value if convert is None else convert(value)
    if not spec.required <= data.keys():
        raise KeyError("a required field is missing")
    event = _new(spec.model)
    _set(event, "__dict__", values)
    _SET_FIELDS_SET(event, set(data))
    _SET_EXTRA(event, None)
    _SET_PRIVATE(event, None)
    return event


def stored_fact(
    event_id: UUID, version: int, recorded_at: datetime, event_type: str, schema_version: int, data: Any
) -> Fact:
    """A stored event as the folds take it; a payload in the store's own form rides along, so
    the clock's log keeps it as it is (`Fact.stored`) instead of encoding the event again."""
    event, payload = _stored(event_type, data, schema_version)
    return Fact(event_id, version, recorded_at, event, payload)
