"""The access record: who read which case, when, through which endpoint.

Why in the domain: the record is hash-chained like the events (each hash covers
the previous hash and the record's canonical content, sorted-key JSON with the
fixed-width UTC timestamp of `app.domain.hashing`), so anyone can recompute the
chain from the rows and see a row changed or removed behind the service's back.
Pure: no clock, no I/O; the service passes the time in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import orjson

from app.domain.hashing import GENESIS, timestamp_text

__all__ = ["GENESIS", "AccessRecord", "access_hash", "case_ids_in", "chain"]


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

    def content(self) -> dict[str, Any]:
        """What the hash covers: every field but the hashes, the time as fixed-width text."""
        return {
            "at": timestamp_text(self.at),
            "key_id": self.key_id,
            "role": self.role,
            "provider_id": self.provider_id,
            "client": self.client,
            "case_ids": list(self.case_ids),
            "endpoint": self.endpoint,
            "request_id": self.request_id,
            "status": self.status,
        }


def access_hash(previous_hash: str, record: AccessRecord) -> str:
    content = orjson.dumps(record.content(), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(previous_hash.encode() + content).hexdigest()


def chain(previous_hash: str, records: Iterable[AccessRecord]) -> Iterator[AccessRecord]:
    """The records with their hashes, continuing the chain after `previous_hash`."""
    for record in records:
        current = access_hash(previous_hash, record)
        yield replace(record, previous_hash=previous_hash, hash=current)
        previous_hash = current


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
