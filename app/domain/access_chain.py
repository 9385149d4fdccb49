"""Checking the access record as someone who does not trust the database would.

Why: "who viewed this person's case" is only an answer if nobody can have removed or
changed a record since. Each record's hash covers the hash before it and its canonical
content (`access_records.canonical`), so recomputing them from the stored rows finds a
record changed, removed, inserted or reordered. A batch row (migration 0012) also
carries the cases, actors and times its indexes find it by: a batch whose index columns
leave out a case it holds would hide that record from `GET /access-log?case_id=` while
the chain still verified, so those are checked against the records too.

Pure: the caller feeds the stored batches in position order (`ChainCheck.batch`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from app.domain.access_records import AccessRecord, access_hash
from app.domain.hashing import GENESIS

__all__ = ["ChainCheck", "StoredBatch"]


@dataclass(frozen=True, slots=True)
class StoredBatch:
    """One row of `access_log_batches` as read back."""

    first_position: int
    last_position: int
    first_at: datetime
    last_at: datetime
    case_ids: list[str]
    actors: list[str]
    previous_hash: str
    hash: str
    records: str  # the JSON array of its records


@dataclass
class ChainCheck:
    """The chain so far: where it ends, how much was checked, what breaks it."""

    head: str = GENESIS
    next_position: int | None = None
    records: int = 0
    batches: int = 0
    problems: list[str] = field(default_factory=list)

    def batch(self, stored: StoredBatch) -> None:
        """Check one batch, the one after those already checked."""
        label = f"batch {stored.first_position}-{stored.last_position}"
        if self.next_position is not None and stored.first_position != self.next_position:
            self.problems.append(f"{label}: positions jump from {self.next_position - 1}")
        if stored.previous_hash != self.head:
            self.problems.append(f"{label}: does not continue the chain (a batch removed or inserted)")
        rows = self._rows(stored, label)
        self._records(stored.first_position, rows)
        if rows and stored.hash != rows[-1].get("hash"):
            self.problems.append(f"{label}: its hash is not its last record's")
        self._index_columns(stored, rows, label)
        self.head, self.next_position = stored.hash, stored.last_position + 1
        self.batches += 1

    def _rows(self, stored: StoredBatch, label: str) -> list[dict[str, Any]]:
        try:
            rows = orjson.loads(stored.records)
        except orjson.JSONDecodeError:
            rows = None
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            self.problems.append(f"{label}: its records are not a JSON array of objects")
            return []
        if len(rows) != stored.last_position - stored.first_position + 1:
            self.problems.append(f"{label}: holds {len(rows)} records")
        return rows

    def _records(self, first_position: int, rows: list[dict[str, Any]]) -> None:
        """Each record's hash recomputed from its content and the hash before it."""
        previous = self.head
        for position, row in enumerate(rows, start=first_position):
            if row.get("previous_hash") != previous:
                self.problems.append(f"record {position}: does not continue the record before it")
            if row.get("hash") != _recomputed(previous, row):
                self.problems.append(f"record {position}: its hash does not match its content")
            previous = str(row.get("hash"))
            self.records += 1

    def _index_columns(self, stored: StoredBatch, rows: list[dict[str, Any]], label: str) -> None:
        """What the batch is found by covers exactly its records."""
        cases = {c for r in rows for c in r.get("case_ids") or ()}
        actors = {a for r in rows for a in (r.get("key_id"), r.get("role"), r.get("provider_id")) if a}
        if set(stored.case_ids) != cases:
            self.problems.append(f"{label}: its case ids are not its records' (a search would miss some)")
        if set(stored.actors) != actors:
            self.problems.append(f"{label}: its actors are not its records' (a search would miss some)")
        times = [_time(r.get("at")) for r in rows]
        if rows and None not in times and (stored.first_at, stored.last_at) != (min(times), max(times)):  # type: ignore[type-var]
            self.problems.append(f"{label}: its times are not its records'")


def _time(text: object) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        return None


def _recomputed(previous: str, row: dict[str, Any]) -> str | None:
    """The record's hash from its stored fields (None: a field is not what a record holds)."""
    at = _time(row.get("at"))
    if at is None or at.tzinfo is None or not isinstance(row.get("case_ids"), list):
        return None
    fields = (row.get(k) for k in ("key_id", "role", "provider_id", "client"))
    record = AccessRecord(
        at, *fields, tuple(row["case_ids"]), row.get("endpoint"), row.get("request_id"), row.get("status")
    )  # type: ignore[arg-type]
    try:
        return access_hash(previous, record)
    except (TypeError, orjson.JSONEncodeError):
        return None
