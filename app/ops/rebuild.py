"""`caseledger rebuild`: every read model again from the log, and whether it had drifted.

One streaming pass (`app.store.bulk.iter_case_rows`, a server-side cursor in a
read-only snapshot) replays each case with the folds the append path uses; the
snapshot, closure-clock row and ledger rows are written in chunks of cases, each
chunk one transaction on a second connection (`app.operations_rebuild_chunk`),
while the next chunk is being replayed. Memory is bounded by a chunk. Read-model
rows of cases without events are removed. A case appended to while the rebuild
runs keeps the newer rows its writer put there.

With `workers` > 1 the cases are cut into ranges of case_id, one process each
(`app.operations_rebuild_shards`), so every core replays. It ends with ANALYZE
of the rewritten tables (`app.operations_analyze`): the worklist's plan depends
on their statistics.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import asyncpg
import orjson

from app.domain.append_plan import SNAPSHOT_EVERY, Projector
from app.domain.case import SNAPSHOT, replay
from app.domain.policy import PolicyTable
from app.ops.analyze import analyze_tables
from app.ops.gc import collect_batch, collector_between_batches
from app.ops.policy_pack import Packed, pack_policy, unpack_policy
from app.ops.rebuild_chunk import MODELS, CaseEnd, Rebuilt, write_chunk
from app.ops.rebuild_facts import stored_fact
from app.ops.rebuild_shards import Shards
from app.projections.projector import projector
from app.store.bulk import Bounds, delete_orphans, iter_case_rows, range_condition, shard_bounds
from app.store.pool import Pool

CHUNK = 1000  # cases per write transaction, or fewer when they are long:
CHUNK_EVENTS = 20_000  # the folded states of a chunk grow with its events
EXAMPLES = 10
SHARD_STATEMENT_TIMEOUT_MS = 10 * 60 * 1000  # as `caseledger rebuild` runs it
Progress = Callable[[int], None]
EVERY_CASE: Bounds = (None, None)
_PREFETCH = 5000


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
    worker_peak_rss_kb: list[int] = field(default_factory=list)  # of the spawned processes

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
    pool: Pool,
    policy: PolicyTable,
    *,
    progress: Progress | None = None,
    workers: int = 1,
    url: str | None = None,
) -> RebuildReport:
    """Rebuild every read model; `progress` is called with the number of cases of each chunk.

    `workers` > 1 (and the database's `url`, for the other processes) replays in that many
    processes, each over its own range of cases.
    """
    report, started = RebuildReport(), time.perf_counter()
    bounds = [EVERY_CASE]
    if workers > 1 and url is not None:
        async with pool.acquire() as conn:
            bounds = await shard_bounds(conn, workers)
    with collector_between_batches():
        if len(bounds) == 1:
            await _rebuild_all(pool, policy, report, progress)
        else:
            await _rebuild_sharded(pool, policy, report, progress, url or "", bounds)
    await _remove_orphans(pool, report)
    async with pool.acquire() as conn:
        await analyze_tables(conn)
    report.seconds = time.perf_counter() - started
    return report


async def _rebuild_sharded(
    pool: Pool,
    policy: PolicyTable,
    report: RebuildReport,
    progress: Progress | None,
    url: str,
    bounds: list[Bounds],
) -> None:
    """The first range here, the others in spawned processes; their reports are added up."""
    # Each process holds its own chunks: smaller ones keep the sum of their memory flat.
    chunk_events = CHUNK_EVENTS // len(bounds)
    shards = Shards(_shard_worker, (url, pack_policy(policy), chunk_events), bounds[1:])
    shards.start()
    try:
        collecting = asyncio.ensure_future(shards.results(progress))
        await _rebuild_all(pool, policy, report, progress, bounds[0], chunk_events)
        parts = await collecting
    except BaseException:
        shards.stop()
        raise
    for part in parts:
        report.cases += part["cases"]
        report.events += part["events"]
        report.differed += part["differed"]
        report.changed_during_rebuild += part["changed_during_rebuild"]
        for model, n in part["differed_by_model"].items():
            report.differed_by_model[model] += n
        report.examples.extend(part["examples"])
        report.worker_peak_rss_kb.extend(part["worker_peak_rss_kb"])
    report.examples = sorted(report.examples)[:EXAMPLES]


def _shard_worker(url: str, policy: Packed, chunk_events: int, bounds: Bounds, messages: Any) -> None:
    """A spawned process's body: one range of cases, then its report on `messages`."""
    try:

        def progress(n: int) -> None:
            messages.put(("progress", n))

        report = asyncio.run(_shard(url, unpack_policy(policy), bounds, progress, chunk_events))
        report.worker_peak_rss_kb = [_peak_rss_kb()]
        messages.put(("ok", asdict(report)))
    except BaseException as exc:  # the parent fails the whole rebuild
        messages.put(("error", f"{type(exc).__name__}: {exc}"))


def _peak_rss_kb() -> int:
    """This process's VmHWM (its own resident high-water mark), 0 where /proc has none."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


async def _shard(
    url: str, policy: PolicyTable, bounds: Bounds, progress: Progress, chunk_events: int
) -> RebuildReport:
    from app.store.db import create_pool

    report = RebuildReport()
    pool = await create_pool(url, min_size=2, max_size=2, statement_timeout_ms=SHARD_STATEMENT_TIMEOUT_MS)
    try:
        with collector_between_batches():
            await _rebuild_all(pool, policy, report, progress, bounds, chunk_events)
    finally:
        await pool.close()
    return report


async def _rebuild_all(
    pool: Pool,
    policy: PolicyTable,
    report: RebuildReport,
    progress: Progress | None,
    bounds: Bounds = EVERY_CASE,
    chunk_events: int = CHUNK_EVENTS,
) -> None:
    async with (
        pool.acquire() as reader,
        pool.acquire() as writer,
        reader.transaction(isolation="repeatable_read", readonly=True),
    ):
        chunk: list[Rebuilt] = []
        writing: asyncio.Task[None] | None = None
        events_in_chunk, project = 0, projector(policy)
        try:
            where, args = range_condition(bounds)
            async for stream in iter_case_rows(reader, where=where, args=args, prefetch=_PREFETCH):
                chunk.append(_rebuilt(stream, project))
                report.events += len(stream)
                events_in_chunk += len(stream)
                if len(chunk) % 50 == 0:
                    await asyncio.sleep(0)  # lets the chunk in flight stream to the server
                if len(chunk) == CHUNK or events_in_chunk >= chunk_events:
                    writing = await _hand_over(writing, writer, chunk, report, progress)
                    chunk, events_in_chunk = [], 0
            writing = await _hand_over(writing, writer, chunk, report, progress)
            if writing is not None:
                await writing
        finally:
            if writing is not None and not writing.done():
                writing.cancel()


def _rebuilt(rows: list[asyncpg.Record], project: Projector) -> Rebuilt:
    """The case replayed, with the rows the append plan's projector gives its state. The
    payloads are trusted as the store wrote them (`app.ops.rebuild_facts`)."""
    loads = orjson.loads
    facts = [stored_fact(r[2], r[1], r[6], r[3], r[4], loads(r[5])) for r in rows]
    state = replay(facts)
    clock, ledger = project.rows(state)
    last = rows[-1]
    return Rebuilt(
        CaseEnd(last[0], last[1], last[7], last[6]),
        tuple(facts[-SNAPSHOT_EVERY:]),
        state,
        SNAPSHOT.dump_json(state).decode(),
        clock,
        ledger,
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


async def _remove_orphans(pool: Pool, report: RebuildReport) -> None:
    async with pool.acquire() as conn, conn.transaction():
        removed = await delete_orphans(conn, MODELS)
    report.removed_without_events = len(removed)
    report.examples.extend(sorted(removed)[: max(0, EXAMPLES - len(report.examples))])
