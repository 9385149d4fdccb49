"""One line of a case-system export: parsed and schema-checked, or refused with a reason.

The schema check is the API's own (`app.handler.validate`), one line at a time so a
bad line refuses only itself. Nothing here touches the database, so the importer
can check the next batch while the previous one is being written. `Shard` says
which of several worker processes takes a line.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import orjson

from app.domain.frozen import quick_init
from app.events.types import IDENTIFIER
from app.service.errors import ServiceError
from app.service.keys import Principal
from app.service.validate import Proposed, Validated, role_refusal, validate


@dataclass(frozen=True, slots=True)
class ImportPrincipal(Principal):
    """Who an imported event's `metadata.actor` names: the export file, not an API key."""

    source: str = ""

    @property
    def actor(self) -> str:
        return f"import:{self.source}"


def importer(file_name: str) -> ImportPrincipal:
    return ImportPrincipal(key_id="import", role="case_system", source=file_name)


@dataclass(frozen=True, slots=True)
class Shard:
    """Which cases one of `count` import workers takes; a case is always one worker's."""

    index: int = 0
    count: int = 1

    def takes(self, case_id: str | None) -> bool:
        """Lines without a readable case_id (refused anyway) go to the first worker."""
        if self.count == 1:
            return True
        if case_id is None:
            return self.index == 0
        return zlib.crc32(case_id.encode()) % self.count == self.index


EVERY_CASE = Shard()


@quick_init  # one per line of the export: the cheaper constructor counts
@dataclass(frozen=True, slots=True)
class Line:
    """A line that passed the schema: it now meets the deciders."""

    number: int
    case_id: str
    item: Validated


@dataclass(frozen=True, slots=True)
class Reject:
    """A refused line, as written to the reject file."""

    line: int
    case_id: str | None
    event_id: str | None
    code: str
    rule: str | None
    detail: str

    def to_json(self) -> bytes:
        return (
            orjson.dumps(
                {
                    "line": self.line,
                    "case_id": self.case_id,
                    "event_id": self.event_id,
                    "code": self.code,
                    "rule": self.rule,
                    "detail": self.detail,
                }
            )
            + b"\n"
        )


@quick_init
@dataclass(frozen=True, slots=True)
class Envelope:
    """A line that is a JSON object of the right shape; its `data` is not checked yet."""

    number: int
    case_id: str
    event_id: UUID
    type: str
    data: dict[str, Any]
    metadata: dict[str, Any]


def parse_envelope(number: int, raw: bytes) -> Envelope | Reject:
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return Reject(number, None, None, "invalid_json", None, f"the line is not JSON: {exc}")
    if not isinstance(obj, dict):
        return Reject(
            number,
            None,
            None,
            "invalid_event",
            None,
            "a line must be a JSON object {case_id, event_id, type, data, metadata}",
        )
    case_id, event_id = obj.get("case_id"), _uuid(obj.get("event_id"))
    shape = _envelope_problem(obj, case_id, event_id)
    if shape is None and b"\\u0000" in raw and _holds_nul(obj):
        shape = "a string holds the character U+0000, which PostgreSQL cannot store"
    if shape is not None or event_id is None:
        return Reject(number, _text(case_id), _text(obj.get("event_id")), "invalid_event", None, shape or "")
    return Envelope(number, case_id, event_id, obj["type"], obj["data"], obj.get("metadata") or {})


def check_schema(line: Envelope, principal: Principal) -> Line | Reject:
    """The API's checks of one line: who may append its type (`role_refusal`: the importer
    is a case system, so legal holds and `CaseRecordsDestroyed` are refused as over HTTP),
    then the schema (`validate`)."""
    refused = role_refusal(principal, [line.type])
    if refused is not None:
        return Reject(line.number, line.case_id, str(line.event_id), refused.code, None, refused.detail)
    try:
        [item] = validate([Proposed(line.type, line.data, line.event_id, line.metadata)], principal)
    except ServiceError as problem:
        return Reject(line.number, line.case_id, str(line.event_id), problem.code, None, problem.detail)
    return Line(line.number, line.case_id, item)


_ENVELOPE_KEYS = frozenset({"case_id", "event_id", "type", "data", "metadata"})


def _envelope_problem(obj: dict[str, Any], case_id: Any, event_id: UUID | None) -> str | None:
    """What is wrong with the envelope around `data`, in the words of the contract."""
    if not isinstance(case_id, str) or not IDENTIFIER.fullmatch(case_id):
        return "case_id must be 1 to 64 characters of [A-Za-z0-9_.-]"
    if event_id is None:
        return "event_id must be a UUID: an import is resumable and idempotent by event_id"
    if not isinstance(obj.get("type"), str):
        return "type must be an event type name"
    if not isinstance(obj.get("data"), dict):
        return "data must be a JSON object"
    if not isinstance(obj.get("metadata", {}), dict | None):
        return "metadata must be a JSON object"
    if not obj.keys() <= _ENVELOPE_KEYS:
        return f"unknown fields {', '.join(sorted(obj.keys() - _ENVELOPE_KEYS))}"
    return None


def _holds_nul(value: Any) -> bool:
    """Whether any key or string holds U+0000 (the schema lets it pass; jsonb refuses it)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


def _uuid(value: Any) -> UUID | None:
    try:
        return UUID(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
