"""`caseledger rebuild`: every read model again from the log, and whether it had drifted.

One streaming pass (`store.iter_all_streams`, a server-side cursor in a
read-only snapshot) replays each case with the folds the append path uses; the
snapshot, closure-clock row and ledger rows are written in chunks of cases, each
chunk one transaction on a second connection (`app.operations_rebuild_chunk`),
while the next chunk is being replayed. Memory is bounded by a chunk. Read-model
rows of cases without events are removed. A case appended to while the rebuild
runs keeps the newer rows its writer put there.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import asyncpg

from app.domain.case import SNAPSHOT, replay
from app.domain.policy import PolicyTable
from app.handler import SNAPSHOT_EVERY
from app.operations_gc import collect_batch, collector_between_batches
from app.operations_rebuild_chunk import MODELS, Rebuilt, write_chunk
from app.projections.closure_clock import clock_row
from app.projections.ledger import ledger_rows
from app.reads import to_fact
from app.store import StoredEvent, iter_all_streams

CHUNK = 1000  # cases per write transaction, or fewer when they are long:
CHUNK_EVENTS = 20_000  # the folded states of a chunk grow with its events
EXAMPLES = 10
_ORPHANS = [
    f"DELETE FROM {t} AS m WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.case_id = m.case_id)"
    " RETURNING m.case_id"
    for t in MODELS
]
Progress = Callable[[int], None]


@dataclass(slots=True)
class RebuildReport:
    cases: int = 0
    events: int = 0
    differed: int = 0
    examples: list[str] = field(default_factory=list)
    differed_by_model: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MODELS, 0))
    removed_without_events: int = 0
    changed_during_rebuild: int = 0
    seconds: float = 0.0

    @property
    def equal(self) -> bool:
        """Whether the live read models equalled the log before the rebuild overwrote them."""
        return self.differed == 0 and self.removed_without_events == 0

    def text(self) -> str:
        rate = self.events / self.seconds if self.seconds else 0.0
        head = (
            f"rebuilt {self.cases} cases ({self.events} events) in {self.seconds:.1f} s, {rate:,.0f} events/s"
        )
        if self.changed_during_rebuild:
            head += (
                f"; {self.changed_during_rebuild} cases were appended to meanwhile and keep"
                " their writers' newer rows"
            )
        if self.equal:
            return f"{head}; every read model equalled the log"
        by_model = ", ".join(f"{m} {n}" for m, n in self.differed_by_model.items() if n)
        return (
            f"{head}; {self.differed} cases differed from the log"
            + (f" ({by_model})" if by_model else "")
            + f", {self.removed_without_events} cases without events had rows (removed);"
            f" e.g. {', '.join(self.examples)}"
        )


async def rebuild(
    pool: asyncpg.Pool, policy: PolicyTable, *, progress: Progress | None = None
) -> RebuildReport:
    """Rebuild every read model; `progress` is called with the number of cases of each chunk."""
    report, started = RebuildReport(), time.perf_counter()
    with collector_between_batches():
        await _rebuild_all(pool, policy, report, progress)
    await _remove_orphans(pool, report)
    report.seconds = time.perf_counter() - started
    return report


async def _rebuild_all(
    pool: asyncpg.Pool, policy: PolicyTable, report: RebuildReport, progress: Progress | None
) -> None:
    async with (
        pool.acquire() as reader,
        pool.acquire() as writer,
        reader.transaction(isolation="repeatable_read", readonly=True),
    ):
        chunk: list[Rebuilt] = []
        writing: asyncio.Task[None] | None = None
        events_in_chunk = 0
        try:
            async for stream in iter_all_streams(reader):
                chunk.append(_rebuilt(stream, policy))
                report.events += len(stream)
                events_in_chunk += len(stream)
                if len(chunk) % 50 == 0:
                    await asyncio.sleep(0)  # lets the chunk in flight stream to the server
                if len(chunk) == CHUNK or events_in_chunk >= CHUNK_EVENTS:
                    writing = await _hand_over(writing, writer, chunk, report, progress)
                    chunk, events_in_chunk = [], 0
            writing = await _hand_over(writing, writer, chunk, report, progress)
            if writing is not None:
                await writing
        finally:
            if writing is not None and not writing.done():
                writing.cancel()


def _rebuilt(stream: list[StoredEvent], policy: PolicyTable) -> Rebuilt:
    facts = [to_fact(e) for e in stream]
    state = replay(facts)
    return Rebuilt(
        stream[-1],
        tuple(facts[-SNAPSHOT_EVERY:]),
        state,
        SNAPSHOT.dump_json(state).decode(),
        clock_row(state, policy),
        ledger_rows(state, policy),
    )


async def _hand_over(
    writing: asyncio.Task[None] | None,
    writer: asyncpg.Connection,
    chunk: list[Rebuilt],
    report: RebuildReport,
    progress: Progress | None,
) -> asyncio.Task[None] | None:
    """Wait for the chunk in flight, then start writing this one while the next is replayed."""
    if writing is not None:
        await writing
        collect_batch()
    if not chunk:
        return None
    return asyncio.create_task(_write(writer, chunk, report, progress))


async def _write(
    writer: asyncpg.Connection,
    chunk: list[Rebuilt],
    report: RebuildReport,
    progress: Progress | None,
) -> None:
    result = await write_chunk(writer, chunk)
    report.changed_during_rebuild += result.moved_on
    for case_id, models in result.differed.items():
        report.differed += 1
        for model in models:
            report.differed_by_model[model] += 1
        if len(report.examples) < EXAMPLES:
            report.examples.append(case_id)
    report.cases += len(chunk)
    if progress is not None:
        progress(len(chunk))


async def _remove_orphans(pool: asyncpg.Pool, report: RebuildReport) -> None:
    removed: set[str] = set()
    async with pool.acquire() as conn, conn.transaction():
        for sql in _ORPHANS:
            removed.update(r["case_id"] for r in await conn.fetch(sql))
    report.removed_without_events = len(removed)
    report.examples.extend(sorted(removed)[: max(0, EXAMPLES - len(report.examples))])
