"""`verify --checkpoints` on a large log: each event's hash recomputed in worker processes.

Recomputing every event's hash from its content (decode, canonical JSON, SHA-256) is
most of the verifier's CPU, and it is Python: one process keeps one core busy while
PostgreSQL and the other core wait. So the log is cut into ranges of positions, one
spawned process per range; each reads its range's events under the verifier's own
snapshot (`pg_export_snapshot` / `SET TRANSACTION SNAPSHOT`: the same rows, however many
commit meanwhile), recomputes their hashes (`app.domain.audit_rows.recomputed_hashes`,
the same function the single-process verifier runs) and sends each event's head
(position, case id, version, stored hash) with its recomputed hash, in batches through a
file (see `HashWorkers`). The verifier merges those heads as they come, range after
range, and does not read the events itself: that they are every event of its snapshot,
each once, is proven by counting (`app.ops.verify_ranges`). Its memory stays flat.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import pickle
import queue
import re
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from app.domain.audit_rows import recomputed_hashes
from app.domain.hashing import StoredRowHasher
from app.ops.gc import collect_batch, collector_between_batches
from app.ops.predecessors import Predecessors
from app.ops.verify_ranges import NotCovered, RangeTally, check_tiling
from app.store import merkle as store

PARALLEL_FROM = 100_000  # events in the newest checkpoint; below it one process is quicker
_SNAPSHOT_ID = re.compile(r"^[0-9A-F]+-[0-9A-F]+(-[0-9]+)?$")
Heads = list[tuple[int, str, int, str]]  # (position, case_id, version, stored hash) per event


class HashWorkers:
    """The worker processes of one verify run, and the heads and hashes they send, in feed order.

    Each worker writes its batches to a file of its own in `folder` and says so on a queue:
    the verifier takes the ranges one after the other, so a later range's batches wait on
    disk (about 100 bytes an event), not in memory, while every worker runs at full speed.
    """

    def __init__(self, url: str, snapshot: str, bounds: Sequence[tuple[int, int]], folder: Path) -> None:
        if not _SNAPSHOT_ID.match(snapshot):
            raise ValueError(f"not a snapshot id: {snapshot!r}")
        check_tiling(bounds)
        self.bounds = list(bounds)
        ctx = multiprocessing.get_context("spawn")
        self._queues = [ctx.Queue() for _ in bounds]
        self._paths = [folder / f"hashes-{i}" for i in range(len(bounds))]
        self._processes = [
            ctx.Process(target=_work, args=(url, snapshot, low, high, path, q), daemon=True)
            for (low, high), path, q in zip(bounds, self._paths, self._queues, strict=True)
        ]
        self.peak_rss_kb: list[int] = []  # each worker's, from its "done"
        self._file: BinaryIO | None = None  # the file of the worker whose batches are being taken

    def start(self) -> None:
        for process in self._processes:
            process.start()

    def stop(self) -> None:
        """End the processes this object started (after a failure or when done), and only those."""
        for process in self._processes:
            if process.is_alive():
                process.terminate()
        for process in self._processes:
            process.join()
        self._close()

    async def batches(
        self, expected: Sequence[store.RangeCount]
    ) -> AsyncIterator[tuple[Heads, list[str | None]]]:
        """Every event's head and recomputed hash, a batch at a time, range after range; when
        the last worker is done, what each sent must be what `expected` (the verifier's
        `store.range_counts` of `bounds`) says its range holds, or `NotCovered` is raised."""
        if len(expected) != len(self.bounds):
            raise NotCovered(f"{len(expected)} counts for {len(self.bounds)} ranges")
        for worker, (low, high) in enumerate(self.bounds):
            tally = RangeTally(low, high)
            while (batch := await asyncio.to_thread(self._receive, worker)) is not None:
                positions, case_ids, versions, stored, differing = batch
                tally.add(positions)
                hashes: list[str | None] = list(stored)
                for index, recomputed in differing.items():
                    hashes[index] = recomputed
                yield list(zip(positions, case_ids, versions, stored, strict=True)), hashes
            tally.check(expected[worker])

    def _receive(self, worker: int) -> tuple[Any, ...] | None:
        """The worker's next batch, read from its file (in a thread: disk); None when it is done."""
        while True:
            try:
                kind, body = self._queues[worker].get(timeout=1.0)
                break
            except queue.Empty:
                if not self._processes[worker].is_alive() and self._queues[worker].empty():
                    raise RuntimeError(f"hash worker {worker} exited without a result") from None
        if kind == "error":
            raise RuntimeError(f"a hash worker failed: {body}")
        if kind == "done":
            self.peak_rss_kb.append(int(body))
            self._close()
            return None
        if self._file is None:  # the worker's first batch: the file exists now
            self._file = self._paths[worker].open("rb")
        return tuple(pickle.load(self._file))

    def _close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _work(url: str, snapshot: str, low: int, high: int, path: Path, out: Any) -> None:
    """A spawned worker's body: its range's heads and hashes, batch by batch, then "done"."""
    try:
        with path.open("wb") as file:
            asyncio.run(_hash_range(url, snapshot, low, high, file, out))
        out.put(("done", _peak_rss_kb()))
    except BaseException as error:  # reported to the verifier, which fails the run
        out.put(("error", f"{type(error).__name__}: {error}"))


async def _hash_range(url: str, snapshot: str, low: int, high: int, file: BinaryIO, out: Any) -> None:
    from app.store.db import connect

    conn = await connect(url)
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            await conn.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")  # checked: hex digits and dashes
            predecessors, hasher = Predecessors(), StoredRowHasher()
            with collector_between_batches():
                async for batch in store.event_batches(conn, between=(low, high)):
                    hashes = recomputed_hashes(batch, await predecessors.of(conn, batch), hasher)
                    pickle.dump(_message(batch, hashes), file, pickle.HIGHEST_PROTOCOL)
                    file.flush()  # before the message: the verifier reads what it is told of
                    out.put(("batch", None))
                    collect_batch()
    finally:
        await conn.close()


def _message(batch: Sequence[Sequence[Any]], hashes: list[str | None]) -> tuple[Any, ...]:
    """The batch's heads by column, and the recomputed hashes that are not the stored one
    (by index; nearly always none, so the file does not carry each hash twice)."""
    stored = [row[3] for row in batch]
    differing = {i: new for i, (new, old) in enumerate(zip(hashes, stored, strict=True)) if new != old}
    return [row[0] for row in batch], [row[1] for row in batch], [row[2] for row in batch], stored, differing


def _peak_rss_kb() -> int:
    """This process's VmHWM (its own resident high-water mark), 0 where /proc has none."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0
