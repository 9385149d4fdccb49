"""The latest folded state of recently touched cases, kept in process.

A case's version names its stream prefix exactly (the log is append-only), so a
cached state at the version the database reports is the state; anything else
is refolded from the snapshot. Bounded LRU, so memory stays flat: by entries and,
when `max_events` is given, by the events the cached states stand for (the sum of
their versions), since a state's size grows with its case's history (about
12 KiB for 50 events, 36 KiB for 200, with its read-model rows).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.domain.append_plan import AppendPlan, Head
from app.domain.case import CaseState


@dataclass(frozen=True, slots=True)
class CachedCase:
    """A case as this process last wrote (or read) it at `version`."""

    version: int
    state: CaseState
    clock_row: dict[str, Any] | None
    ledger_rows: list[dict[str, Any]]
    last_hash: str | None = None  # with the three below: set when this process wrote it
    last_recorded_at: datetime | None = None
    state_version: int = 0

    @classmethod
    def written(cls, plan: AppendPlan, head: Head) -> CachedCase:
        """The case as `plan` leaves it once written on top of `head`."""
        after = plan.head_after(head)
        return cls(
            after.version,
            plan.state,
            plan.clock_after,
            plan.ledger_after,
            last_hash=after.last_hash,
            last_recorded_at=after.last_recorded_at,
            state_version=after.state_version,
        )

    def head(self, fold_version: int) -> Head | None:
        """The head this process wrote, when it knows it (None for a case it only read)."""
        if self.last_hash is None:
            return None
        return Head(self.version, self.last_hash, self.last_recorded_at, self.state_version, fold_version)


class StateCache:
    def __init__(self, max_entries: int = 4096, max_events: int | None = None) -> None:
        self._max = max_entries
        self._max_events = max_events
        self._events = 0  # sum of the cached entries' versions
        self._entries: OrderedDict[str, CachedCase] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def events(self) -> int:
        """The events the cached states stand for (the sum of their versions)."""
        return self._events

    def get(self, case_id: str) -> CachedCase | None:
        entry = self._entries.get(case_id)
        if entry is not None:
            self._entries.move_to_end(case_id)
        return entry

    def version_of(self, case_id: str) -> int:
        entry = self._entries.get(case_id)
        return entry.version if entry is not None else -1

    def put(self, case_id: str, entry: CachedCase) -> None:
        entries = self._entries
        current = entries.get(case_id)
        if current is not None:
            if current.version > entry.version:
                return
            self._events -= current.version
        entries[case_id] = entry
        entries.move_to_end(case_id)
        self._events += entry.version
        limit = self._max_events
        # Least recently used first; the entry just put stays even when it alone is over.
        while len(entries) > self._max or (limit is not None and self._events > limit and len(entries) > 1):
            _, evicted = entries.popitem(last=False)
            self._events -= evicted.version
