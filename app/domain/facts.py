"""What the pure rules fold over and what they answer with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import PlainSerializer, PlainValidator

from app.events.registry import parse_event
from app.events.types import EventData


def _stored(event: EventData) -> dict[str, Any]:
    return {"type": event.TYPE, "data": event.to_json_dict()}


def _restored(value: Any) -> EventData:
    if isinstance(value, EventData):
        return value
    return parse_event(value["type"], value["data"])


# An event payload as a snapshot stores it: its stable type name and its JSON payload,
# parsed back into its model (the base class alone would serialize as `{}`).
SnapshotEvent = Annotated[EventData, PlainValidator(_restored), PlainSerializer(_stored)]


@dataclass(frozen=True, slots=True)
class Fact:
    """A recorded event as the folds see it: its identity, place in the stream and payload."""

    event_id: UUID
    version: int
    recorded_at: datetime
    data: EventData
    # The payload as the store keeps it, when the fold was handed it (the rebuild reads it):
    # the clock's log keeps it as it is (`clock_log.Logged.stored`) instead of encoding the
    # event again for the snapshot. None: the log keeps the event itself.
    stored: dict[str, Any] | None = None

    @property
    def type(self) -> str:
        return self.data.TYPE


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a proposed event may not be recorded.

    `rule` is a stable id (the HTTP answer's `rule`, the metrics label);
    `detail` is one sentence naming the dates and ids involved.
    """

    rule: str
    detail: str
    code: str = "rule_violation"
