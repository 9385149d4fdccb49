"""The access record: who read which case, when, through which endpoint.

Why in the domain: the record is hash-chained like the events (each hash covers
the previous hash and the record's canonical content, sorted-key JSON with the
fixed-width UTC timestamp of `app.domain.hashing`), so anyone can recompute the
chain from the rows and see a row changed or removed behind the service's back.
Pure: no clock, no I/O; the service passes the time in.

Why `canonical` builds the JSON itself: the writer hashes every read of the service
(thousands a second), so the content is encoded once, in one orjson call (its keys
already in sorted order, the time written by orjson: strftime alone cost more than
the rest of a record), and the same bytes then become the stored row (`chained`):
no dataclass copy, no second dump.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import orjson

from app.domain.hashing import GENESIS

__all__ = ["GENESIS", "AccessRecord", "access_hash", "canonical", "case_ids_in", "chain", "chained"]


@dataclass(frozen=True, slots=True)
class AccessRecord:
    """One request that returned (or was refused) a case's data."""

    at: datetime
    key_id: str | None
    role: str | None
    provider_id: str | None
    client: str | None
    case_ids: tuple[str, ...]
    endpoint: str  # "GET /cases/{case_id}/closure-clock": the method and the route template
    request_id: str | None
    status: int
    previous_hash: str = ""
    hash: str = ""

    def canonical(self) -> bytes:
        """What the hash covers: every field but the hashes (see `canonical`)."""
        return canonical(
            self.at,
            self.key_id,
            self.role,
            self.provider_id,
            self.client,
            self.case_ids,
            self.endpoint,
            self.request_id,
            self.status,
        )


def utc_text(at: datetime) -> str:
    """A UTC time as `app.domain.hashing.timestamp_text` writes it (YYYY-MM-DDTHH:MM:SS.ffffffZ)."""
    return at.isoformat(timespec="microseconds")[:-6] + "Z"  # "+00:00" -> "Z"


def canonical(
    at: datetime,
    key_id: str | None,
    role: str | None,
    provider_id: str | None,
    client: str | None,
    case_ids: Sequence[str],
    endpoint: str,
    request_id: str | None,
    status: int,
) -> bytes:
    """The record's content as the hash covers it: every field but the hashes, the time as
    fixed-width UTC text, as JSON with its keys in sorted order."""
    if at.tzinfo is not UTC:
        at = at.astimezone(UTC)
    return orjson.dumps(
        {
            # orjson writes a UTC time as fixed-width text, but for a zero fraction
            "at": at if at.microsecond else utc_text(at),
            "case_ids": case_ids,
            "client": client,
            "endpoint": endpoint,
            "key_id": key_id,
            "provider_id": provider_id,
            "request_id": request_id,
            "role": role,
            "status": status,
        },
        option=orjson.OPT_UTC_Z,
    )


def _hash(previous_hash: str, content: bytes) -> str:
    return hashlib.sha256(previous_hash.encode() + content).hexdigest()


def access_hash(previous_hash: str, record: AccessRecord) -> str:
    return _hash(previous_hash, record.canonical())


def chain(previous_hash: str, records: Iterable[AccessRecord]) -> Iterator[AccessRecord]:
    """The records with their hashes, continuing the chain after `previous_hash`."""
    for record in records:
        current = access_hash(previous_hash, record)
        yield replace(record, previous_hash=previous_hash, hash=current)
        previous_hash = current


def chained(previous_hash: str, contents: Sequence[bytes]) -> tuple[bytes, str]:
    """(the JSON array of the rows to store, the chain's new head) for `contents` (each a
    `canonical` record) continuing the chain after `previous_hash`: each row is its
    content with its `previous_hash` and `hash` added."""
    rows = []
    for content in contents:
        current = _hash(previous_hash, content)
        row = b'%s,"previous_hash":"%s","hash":"%s"}'
        rows.append(row % (content[:-1], previous_hash.encode(), current.encode()))
        previous_hash = current
    return b"[" + b",".join(rows) + b"]", previous_hash


def case_ids_in(body: bytes, limit: int = 10_000) -> tuple[str, ...]:
    """The distinct `case_id` values of a JSON answer (a feed, worklist or provider page),
    in order of first appearance; empty when the body is not JSON."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return ()
    found: dict[str, None] = {}
    stack = [value]
    while stack and len(found) < limit:
        item = stack.pop()
        if isinstance(item, dict):
            case_id = item.get("case_id")
            if isinstance(case_id, str):
                found.setdefault(case_id)
            stack.extend(v for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            stack.extend(reversed([v for v in item if isinstance(v, dict | list)]))
    return tuple(found)
