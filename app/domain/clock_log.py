"""`Logged`: a fact the closure clock folded, as `ClockState.log` keeps it, compactly.

Why not the event model itself: the log keeps every fact a case's clock folded (so a
rule that names an earlier date can re-fold the case as it stood then), and the state
cache keeps thousands of states. A pydantic model costs its object, its `__dict__` and
a fields-set `set` per event, objects the garbage collector walks again and again, and
a snapshot read back parsed (validated) every logged event again, which made reading a
snapshot more than three times dearer than before the log existed, though the log is
only re-folded for a date before the case's latest business date.

So a logged fact is one tuple: its id, its stream version and its event in one of two
forms. Folded from an event model, the model's class and its field values (a tuple in
field order: a dict per fact made the state cache a quarter larger); read from a
snapshot, the event's type and its stored JSON payload, parsed only when a re-fold
asks for `data`, and stored again as it was read.
`data` gives the event back either way; equality compares the events, whatever form.

Nothing else sees the difference: `Logged(event_id, version, data)`, `.event_id`,
`.version`, `.data`, equality, pickling, and the snapshot's JSON ({"event_id",
"version", "data": {"type", "data"}}) are as before, so the fold version is unchanged.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any
from uuid import UUID

from pydantic import BaseModel, GetCoreSchemaHandler, TypeAdapter
from pydantic_core import core_schema

from app.events.registry import parse_event
from app.events.types import EventData

_new, _set = object.__new__, object.__setattr__
# What `model_construct` sets besides __dict__, through BaseModel's own slots (as
# app.ops.rebuild_facts does; tests/unit/test_clock_log.py compares the events).
_SET_FIELDS_SET, _SET_EXTRA, _SET_PRIVATE = (
    BaseModel.__dict__[name].__set__
    for name in ("__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")
)


_FIELD_NAMES: dict[type[EventData], tuple[str, ...]] = {}


def _field_names(kind: type[EventData]) -> tuple[str, ...]:
    """An event model's field names in declaration order (the order of its `__dict__`)."""
    names = _FIELD_NAMES.get(kind)
    if names is None:
        names = _FIELD_NAMES[kind] = tuple(kind.model_fields)
    return names


class Logged(tuple):  # type: ignore[type-arg]
    """A fact the clock folded, as its log keeps it (see `ClockState.log`): no recording
    time, which no fold reads and which the append path learns only after deciding.

    The tuple is (event_id, version, model class, field values in field order) or, read from a
    snapshot, (event_id, version, type name, stored payload)."""

    __slots__ = ()

    def __new__(cls, event_id: UUID, version: int, data: EventData) -> Logged:
        kind, values = type(data), data.__dict__
        names = _field_names(kind)
        # The values alone (a tuple is a third of a dict's size) when they are in field order.
        kept = tuple(values.values()) if tuple(values) == names else values.copy()
        return tuple.__new__(cls, (event_id, version, kind, kept))

    @classmethod
    def stored(cls, event_id: UUID, version: int, event_type: str, payload: dict[str, Any]) -> Logged:
        """A logged fact read from a snapshot: its event parsed only when asked for."""
        return tuple.__new__(cls, (event_id, version, event_type, payload))

    event_id: UUID = property(itemgetter(0))  # type: ignore[assignment]
    version: int = property(itemgetter(1))  # type: ignore[assignment]

    @property
    def data(self) -> EventData:
        kind, values = self[2], self[3]
        if isinstance(kind, str):
            return parse_event(kind, values)
        fields = (
            dict(zip(_field_names(kind), values, strict=True)) if type(values) is tuple else values.copy()
        )
        event = _new(kind)  # as `model_construct` puts a model together: its values were validated
        _set(event, "__dict__", fields)
        _SET_FIELDS_SET(event, set(fields))
        _SET_EXTRA(event, None)
        _SET_PRIVATE(event, None)
        return event

    def stored_payload(self) -> dict[str, Any]:
        """The event as a snapshot stores it (as `facts.SnapshotEvent` does)."""
        kind, values = self[2], self[3]
        if isinstance(kind, str):
            return {"type": kind, "data": values}
        return {"type": kind.TYPE, "data": self.data.to_json_dict()}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Logged):
            return NotImplemented
        if self[:2] != other[:2]:
            return False
        if self[2] is other[2] and not isinstance(self[2], str) and type(self[3]) is type(other[3]):
            return self[3] == other[3]
        if isinstance(self[2], str) and self[2] == other[2] and self[3] == other[3]:
            return True  # the same stored payload of the same type: the same event, unparsed
        return self.data == other.data

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return hash((self[0], self[1]))

    def __getnewargs__(self) -> tuple[UUID, int, EventData]:  # type: ignore[override]
        return self.event_id, self.version, self.data

    def __repr__(self) -> str:
        return f"Logged(event_id={self.event_id!r}, version={self.version!r}, data={self.data!r})"

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        event = core_schema.typed_dict_schema(
            {
                "type": core_schema.typed_dict_field(core_schema.str_schema()),
                "data": core_schema.typed_dict_field(core_schema.dict_schema(core_schema.str_schema())),
            }
        )
        stored = core_schema.typed_dict_schema(
            {
                "event_id": core_schema.typed_dict_field(core_schema.uuid_schema()),
                "version": core_schema.typed_dict_field(core_schema.int_schema()),
                "data": core_schema.typed_dict_field(event),
            }
        )
        restored = core_schema.no_info_after_validator_function(_restored, stored)
        return core_schema.json_or_python_schema(
            json_schema=restored,
            python_schema=core_schema.union_schema([core_schema.is_instance_schema(cls), restored]),
            serialization=core_schema.plain_serializer_function_ser_schema(
                _stored, return_schema=stored, when_used="always"
            ),
        )


def _restored(stored: dict[str, Any]) -> Logged:
    event = stored["data"]
    return Logged.stored(stored["event_id"], stored["version"], event["type"], event["data"])


def _stored(logged: Logged) -> dict[str, Any]:
    return {"event_id": logged[0], "version": logged[1], "data": logged.stored_payload()}


CLOCK_LOG = TypeAdapter(tuple[Logged, ...])
"""A clock's log as a snapshot stores it (`ClockState.log`, the JSON under "clock" ->
"log"), read back on its own: a read of an earlier date needs no more of a snapshot."""
