"""One import batch's transaction: decide, write every case at once (a COPY), account for it.

A batch is normally decided while the previous one is being written (`decide`,
against that batch's outcome), so Python decides while PostgreSQL writes. A lost
race on a case (another writer took its next version, or, with several workers,
stored the same event_id) rolls the batch back and decides it again against the
fresh heads; the batch decided behind it is then decided again too. What the
batch wrote stays cached for the next batch, and only that: memory follows a
batch, not the export.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO
from uuid import UUID

import asyncpg

from app.ops.gc import collect_batch
from app.ops.import_batch import Decided, DecideLater, Importing, decide_batch
from app.ops.import_lines import Line, Reject
from app.service.state_cache import StateCache
from app.store import appends
from app.store.bulk_appends import copy_appends

RETRIES = 5


@dataclass(slots=True)
class ImportSummary:
    read: int = 0
    appended: int = 0
    skipped: int = 0
    rejected: int = 0
    seconds: float = 0.0
    rejects_path: Path | None = None
    rejected_by_code: dict[str, int] = field(default_factory=dict)

    @property
    def events_per_second(self) -> float:
        """Lines handled per second (appended, skipped or rejected)."""
        return self.read / self.seconds if self.seconds else 0.0

    def text(self) -> str:
        codes = ", ".join(f"{c} {n}" for c, n in sorted(self.rejected_by_code.items()))
        return (
            f"read {self.read}, appended {self.appended}, skipped as already present "
            f"{self.skipped}, rejected {self.rejected}{f' ({codes})' if codes else ''}; "
            f"{self.seconds:.1f} s, {self.events_per_second:,.0f} events/s"
            + (f"; rejects in {self.rejects_path}" if self.rejected else "")
        )


@dataclass(slots=True)
class Batch:
    """One batch of lines, checked: what the writer decides, and what was settled already."""

    lines: list[Line] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    read: int = 0
    skipped: int = 0
    size_bytes: int = 0
    # The stored copies of the lines' event_ids when checked: current until a write commits
    known: dict[UUID, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Writer:
    """Decides and writes batches, one transaction each, and accounts for them."""

    conn: asyncpg.Connection
    run: Importing
    summary: ImportSummary
    rejects: BinaryIO
    progress: Callable[[int], None] | None
    raced: bool = False  # the last commit was decided again: what was decided behind it is stale

    async def decide(
        self, reader: asyncpg.Connection, batch: Batch, ahead: Decided | None, *, checked: bool = False
    ) -> Decided | None:
        """Decide `batch` as if `ahead` (the batch in flight, None when none is) were written;
        None when it has to wait for that write (`commit` decides it then). `checked`: no write
        committed since the batch was checked, so its stored copies are still the store's."""
        if not batch.lines:
            return Decided()
        known = batch.known if checked else None
        try:
            return await decide_batch(reader, batch.lines, self.run, datetime.now(UTC), ahead, known)
        except DecideLater:
            return None

    async def commit(self, batch: Batch, decided: Decided | None = None) -> None:
        """Write `batch` as `decided` (decided here when None); a lost race on a case (another
        writer took its next version) decides the batch again."""
        self.raced = False
        for attempt in range(RETRIES + 1 if batch.lines else 0):
            if decided is None or attempt:
                decided = await decide_batch(self.conn, batch.lines, self.run, datetime.now(UTC))
            try:
                async with self.conn.transaction():
                    await copy_appends(self.conn, decided.appends, decided.refused_claims)
                break
            except (appends.LostRace, asyncpg.DeadlockDetectedError):
                self.raced = True
                if attempt == RETRIES:  # (a deadlock needs one event_id on two cases, in two
                    raise  # workers' batches at once; deciding again then finds it stored)
        decided = decided if decided is not None and batch.lines else Decided()
        self._keep_states(decided)
        self._count(batch, decided)
        collect_batch()
        if self.progress is not None:
            self.progress(batch.size_bytes)

    def _keep_states(self, decided: Decided) -> None:
        """The next batch finds the states this one wrote; older ones are let go, so memory
        follows a batch, not the export (a case that returns later is read back)."""
        cache = StateCache(max_entries=max(len(decided.cached), 1))
        for case_id, cached in decided.cached:
            cache.put(case_id, cached)
        self.run = replace(self.run, cache=cache)

    def _count(self, batch: Batch, decided: Decided) -> None:
        refused = sorted(batch.rejects + decided.rejects, key=lambda r: r.line)
        self.rejects.writelines(r.to_json() for r in refused)
        summary = self.summary
        summary.read += batch.read
        summary.appended += len(decided.accepted)
        summary.skipped += batch.skipped + decided.skipped
        summary.rejected += len(refused)
        for reject in refused:
            summary.rejected_by_code[reject.code] = summary.rejected_by_code.get(reject.code, 0) + 1
