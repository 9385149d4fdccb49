"""Corrections: a mistake is undone by a new event, never by an edit."""

from __future__ import annotations

from uuid import UUID

from app.events.types import EventData, Text


class EventRetracted(EventData):
    """Every read model behaves as if the retracted event had not happened; the log keeps it."""

    TYPE = "EventRetracted"
    retracted_event_id: UUID
    reason: Text
