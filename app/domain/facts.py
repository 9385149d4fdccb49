"""What the pure rules fold over and what they answer with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from app.events.types import EventData


@dataclass(frozen=True, slots=True)
class Fact:
    """A recorded event as the folds see it: its identity, place in the stream and payload."""

    event_id: UUID
    version: int
    recorded_at: datetime
    data: EventData

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
