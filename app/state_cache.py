"""The latest folded state of recently touched cases, kept in process.

A case's version names its stream prefix exactly (the log is append-only), so a
cached state at the version the database reports is the state; anything else
is refolded from the snapshot. Bounded LRU, so memory stays flat.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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


class StateCache:
    def __init__(self, max_entries: int = 4096) -> None:
        self._max = max_entries
        self._entries: OrderedDict[str, CachedCase] = OrderedDict()

    def get(self, case_id: str) -> CachedCase | None:
        entry = self._entries.get(case_id)
        if entry is not None:
            self._entries.move_to_end(case_id)
        return entry

    def version_of(self, case_id: str) -> int:
        entry = self._entries.get(case_id)
        return entry.version if entry is not None else -1

    def put(self, case_id: str, entry: CachedCase) -> None:
        current = self._entries.get(case_id)
        if current is not None and current.version > entry.version:
            return
        self._entries[case_id] = entry
        self._entries.move_to_end(case_id)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
