"""`caseledger verify`: every case's hash chain recomputed from the stored rows.

A row changed behind the service's back (an UPDATE with the append-only trigger
disabled, a restore gone wrong) no longer hashes to what the next event chained
on, so `store.chain_breaks` names every version where the chain breaks (one
edited row breaks at its own version only, so a later edit still shows).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import asyncpg

from app.ops.gc import collect_batch, collector_between_batches
from app.store.pool import Pool
from app.store.streams import chain_breaks, iter_all_streams

PROGRESS_EVERY = 500


@dataclass(frozen=True, slots=True)
class BrokenCase:
    case_id: str
    version: int
    reason: str


@dataclass(slots=True)
class VerifyReport:
    cases: int = 0
    events: int = 0
    broken: list[BrokenCase] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.broken

    def text(self) -> str:
        head = f"verified {self.cases} cases ({self.events} events) in {self.seconds:.1f} s"
        if self.ok:
            return f"{head}: every hash chain is intact"
        lines = [f"{head}: {len(self.broken)} broken"]
        lines += [f"  {b.case_id} version {b.version}: {b.reason}" for b in self.broken]
        return "\n".join(lines)


async def verify_all(pool: Pool, *, progress: Callable[[int], None] | None = None) -> VerifyReport:
    """`progress` is called with a number of cases verified since its last call."""
    report, started = VerifyReport(), time.perf_counter()
    with collector_between_batches():
        async with (
            pool.acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            await _verify_streams(conn, report, progress)
    report.seconds = time.perf_counter() - started
    return report


async def _verify_streams(
    conn: asyncpg.Connection, report: VerifyReport, progress: Callable[[int], None] | None
) -> None:
    pending = 0
    async for stream in iter_all_streams(conn):
        for found in chain_breaks(stream):
            report.broken.append(BrokenCase(stream[0].case_id, found["broken_at_version"], found["reason"]))
        report.cases += 1
        report.events += len(stream)
        pending += 1
        if pending == PROGRESS_EVERY:
            _advance(progress, pending)
            pending = 0
            collect_batch()
            await asyncio.sleep(0)
    _advance(progress, pending)


def _advance(progress: Callable[[int], None] | None, cases: int) -> None:
    if progress is not None and cases:
        progress(cases)
