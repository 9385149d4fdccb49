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

__all__ = [
    "GENESIS",
    "AccessRecord",
    "Batch",
    "RecordBatch",
    "access_hash",
    "canonical",
    "case_ids_in",
    "chain",
    "chained",
]


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
        return canonical(*_fields(self))


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


@dataclass(frozen=True, slots=True)
class Batch:
    """A batch as stored (one row of `access_log_batches`): its records as a JSON array
    (`chained`), where it starts and ends the chain, and what the row's indexes find it by."""

    previous_hash: str
    hash: str
    count: int
    first_at: datetime
    last_at: datetime
    case_ids: list[str]
    actors: list[str]  # every key id, role and provider id of its records
    records: bytes


class RecordBatch:
    """Records gathered for one batch: each one's canonical content, and the cases, actors
    and times the batch covers (so neither side parses the records back to index them)."""

    __slots__ = ("_actors", "_case_ids", "_contents", "_first_at", "_last_at")

    def __init__(self) -> None:
        self._contents: list[bytes] = []
        self._case_ids: set[str] = set()
        self._actors: set[str] = set()
        self._first_at: datetime | None = None
        self._last_at: datetime | None = None

    def __len__(self) -> int:
        return len(self._contents)

    def add(self, record: AccessRecord) -> None:
        self.add_fields(*_fields(record))

    def add_fields(
        self,
        at: datetime,
        key_id: str | None,
        role: str | None,
        provider_id: str | None,
        client: str | None,
        case_ids: Sequence[str],
        endpoint: str,
        request_id: str | None,
        status: int,
    ) -> None:
        """Add a record given field by field (the order of `AccessRecord`'s)."""
        self._contents.append(
            canonical(at, key_id, role, provider_id, client, case_ids, endpoint, request_id, status)
        )
        self._case_ids.update(case_ids)
        self._actors.update(a for a in (key_id, role, provider_id) if a is not None)
        if self._first_at is None or at < self._first_at:
            self._first_at = at
        if self._last_at is None or at > self._last_at:
            self._last_at = at

    def chained(self, previous_hash: str) -> Batch:
        """The batch continuing the chain after `previous_hash` (at least one record)."""
        if self._first_at is None or self._last_at is None:
            raise ValueError("a batch holds at least one record")
        rows, head = chained(previous_hash, self._contents)
        return Batch(
            previous_hash,
            head,
            len(self._contents),
            self._first_at,
            self._last_at,
            sorted(self._case_ids),
            sorted(self._actors),
            rows,
        )


def _fields(r: AccessRecord) -> tuple:  # type: ignore[type-arg]
    return (r.at, r.key_id, r.role, r.provider_id, r.client, r.case_ids, r.endpoint, r.request_id, r.status)


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
