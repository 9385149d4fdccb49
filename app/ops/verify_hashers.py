"""`verify --checkpoints` on a large log: each event's hash recomputed in worker processes.

Recomputing every event's hash from its content (decode, canonical JSON, SHA-256) is
about two thirds of the verifier's CPU, and it is Python: one process keeps one core busy
while PostgreSQL and the other core wait. So the log is cut into ranges of positions,
one spawned process per range; each reads its range's events under the verifier's own
snapshot (`pg_export_snapshot` / `SET TRANSACTION SNAPSHOT`: the same rows, however many
commit meanwhile), recomputes their hashes (`app.domain.audit_rows.recomputed_hashes`,
the same function the single-process verifier runs) and sends (positions, hashes) back in
batches through a file (see `HashWorkers`). The verifier reads only the head of each
event (position, case id, version, stored hash), merges as before, and takes the hashes
in feed order, checking that every position matches; its memory stays flat.
"""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing
import pickle
import queue
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

import asyncpg

from app.domain.audit_rows import recomputed_hashes
from app.ops.gc import collect_batch, collector_between_batches
from app.ops.predecessors import Predecessors
from app.store import merkle as store

PARALLEL_FROM = 100_000  # events in the newest checkpoint; below it one process is quicker
_SNAPSHOT_ID = re.compile(r"^[0-9A-F]+-[0-9A-F]+(-[0-9]+)?$")
_LOWEST, _HIGHEST = -(2**63), 2**63 - 1


async def position_bounds(conn: asyncpg.Connection, tree_size: int, workers: int) -> list[tuple[int, int]]:
    """[low, high) ranges of positions covering every event, cut where the recorded tree
    has each worker's share of the leaves (only the balance depends on those rows)."""
    cuts = await store.leaf_positions(conn, [tree_size * k // workers for k in range(1, workers)])
    edges = [_LOWEST, *sorted(set(cuts)), _HIGHEST]
    return [(low, high) for low, high in itertools.pairwise(edges) if low < high]


class HashWorkers:
    """The worker processes of one verify run, and the hashes they send, in feed order.

    Each worker writes its batches to a file of its own in `folder` and says so on a queue:
    the verifier takes the ranges one after the other, so a later range's hashes wait on
    disk (about 100 bytes an event), not in memory, while every worker runs at full speed.
    """

    def __init__(self, url: str, snapshot: str, bounds: Sequence[tuple[int, int]], folder: Path) -> None:
        if not _SNAPSHOT_ID.match(snapshot):
            raise ValueError(f"not a snapshot id: {snapshot!r}")
        ctx = multiprocessing.get_context("spawn")
        self._queues = [ctx.Queue() for _ in bounds]
        self._paths = [folder / f"hashes-{i}" for i in range(len(bounds))]
        self._processes = [
            ctx.Process(target=_work, args=(url, snapshot, low, high, path, q), daemon=True)
            for (low, high), path, q in zip(bounds, self._paths, self._queues, strict=True)
        ]
        self.peak_rss_kb: list[int] = []  # each worker's, from its "done"
        self._worker = 0  # whose batches are being taken
        self._file: BinaryIO | None = None
        self._positions: list[int] = []
        self._hashes: list[str | None] = []
        self._taken = 0

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
        if self._file is not None:
            self._file.close()

    async def hashes_for(self, rows: Sequence[Sequence[Any]]) -> list[str | None]:
        """The recomputed hashes of `rows` (event heads in feed order, the next ones)."""
        out: list[str | None] = []
        while len(out) < len(rows):
            if self._taken == len(self._hashes) and not await self._next_batch():
                raise RuntimeError("the hash workers read fewer events than the verifier")
            n = min(len(rows) - len(out), len(self._hashes) - self._taken)
            wanted = [row[0] for row in rows[len(out) : len(out) + n]]
            if wanted != self._positions[self._taken : self._taken + n]:
                raise RuntimeError("the hash workers read other events than the verifier")
            out += self._hashes[self._taken : self._taken + n]
            self._taken += n
        return out

    async def finish(self) -> None:
        """Every worker must be done with nothing left over."""
        if self._taken < len(self._hashes) or await self._next_batch():
            raise RuntimeError("the hash workers read more events than the verifier")

    async def _next_batch(self) -> bool:
        """Load the next batch; False when every worker is done."""
        while self._worker < len(self._queues):
            kind, body = await asyncio.to_thread(self._receive, self._worker)
            if kind == "batch":
                self._taken = 0
                return True
            if kind == "error":
                raise RuntimeError(f"a hash worker failed: {body}")
            self._worker += 1  # "done", with the worker's peak RSS
            self.peak_rss_kb.append(int(body))
            if self._file is not None:
                self._file.close()
                self._file = None
        return False

    def _receive(self, worker: int) -> tuple[str, Any]:
        """The worker's next message; a batch is read from its file (in a thread: disk)."""
        while True:
            try:
                kind, body = self._queues[worker].get(timeout=1.0)
                break
            except queue.Empty:
                if not self._processes[worker].is_alive() and self._queues[worker].empty():
                    return ("error", f"worker {worker} exited without a result")
        if kind == "batch":
            if self._file is None:
                self._file = self._paths[worker].open("rb")
            self._positions, self._hashes = pickle.load(self._file)
        return kind, body


def _work(url: str, snapshot: str, low: int, high: int, path: Path, out: Any) -> None:
    """A spawned worker's body: its range's hashes, batch by batch, then "done"."""
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
            predecessors = Predecessors()
            with collector_between_batches():
                async for batch in store.event_batches(conn, between=(low, high)):
                    hashes = recomputed_hashes(batch, await predecessors.of(conn, batch))
                    pickle.dump(([row[0] for row in batch], hashes), file, pickle.HIGHEST_PROTOCOL)
                    file.flush()  # before the message: the verifier reads what it is told of
                    out.put(("batch", None))
                    collect_batch()
    finally:
        await conn.close()


def _peak_rss_kb() -> int:
    """This process's VmHWM (its own resident high-water mark), 0 where /proc has none."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0
