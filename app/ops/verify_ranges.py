"""The ranges of positions the hash workers of `verify --checkpoints` read, and the proof
that together they sent every event of the verifier's snapshot, each once.

The workers send each event's head (position, case id, version, stored hash) with its
recomputed hash, so the verifier does not read the events a second time. What that read
used to prove (the workers hashed exactly the events the verifier merges) is proven
instead by counting:

- the ranges tile every position: the first starts at the lowest bigint, each starts
  where the one before ends, the last ends past the highest (`check_tiling`);
- within each range the positions a worker sends lie inside it and strictly increase,
  across its batches (`RangeTally.add`): no row twice, no row of another range;
- per range, the rows sent, their lowest and highest position and the positions' sum
  equal what one aggregate statement gives under the verifier's own snapshot
  (`store.range_counts`, `RangeTally.check`): no row skipped, none from another snapshot.

A worker that fails any of these fails the run (`NotCovered`), it does not yield findings:
the verdict would rest on rows nobody checked.

What this guards against is a worker that errs (skips, repeats or strays: a bug, a wrong
snapshot, a cut range), not one that lies: the workers are this program's own processes,
and one that lied could as well lie about the hashes it recomputes. Count, ends and sum
together are not a proof that two sets of positions are equal, but a worker that reads
its range in order cannot err in a way that keeps all four.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Sequence

import asyncpg

from app.store import merkle as store

# The ranges tile [LOWEST, HIGHEST): every bigint position but HIGHEST (see snapshot_counts).
LOWEST, HIGHEST = store.LOWEST_POSITION, store.HIGHEST_POSITION


class NotCovered(RuntimeError):
    """The hash workers did not send exactly the snapshot's events."""


async def position_bounds(conn: asyncpg.Connection, tree_size: int, workers: int) -> list[tuple[int, int]]:
    """[low, high) ranges of positions covering every event, cut where the recorded tree
    has each worker's share of the leaves (only the balance depends on those rows)."""
    cuts = await store.leaf_positions(conn, [tree_size * k // workers for k in range(1, workers)])
    edges = [LOWEST, *sorted(set(cuts)), HIGHEST]
    return [(low, high) for low, high in itertools.pairwise(edges) if low < high]


def check_tiling(bounds: Sequence[tuple[int, int]]) -> None:
    """The ranges, in order, cover [LOWEST, HIGHEST) without a gap or an overlap."""
    edges = [LOWEST] + [high for _, high in bounds]
    if not bounds or [low for low, _ in bounds] != edges[:-1] or edges[-1] != HIGHEST:
        raise NotCovered(f"the hash workers' ranges do not tile every position: {list(bounds)}")
    if any(low >= high for low, high in bounds):
        raise NotCovered(f"an empty or reversed range among the hash workers': {list(bounds)}")


class RangeTally:
    """What one worker sent of its range [low, high): how many positions, the first, the last
    and their sum, each batch checked to lie inside the range after the one before."""

    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high
        self.rows, self.total = 0, 0
        self.first: int | None = None
        self.last: int | None = None

    def add(self, positions: Sequence[int]) -> None:
        if not positions:
            return
        after = self.low - 1 if self.last is None else self.last
        inside = positions[0] > after and positions[-1] < self.high
        if not inside or not all(map(operator.lt, positions, itertools.islice(positions, 1, None))):
            raise NotCovered(
                f"a hash worker of [{self.low}, {self.high}) sent positions out of its range or order"
            )
        if self.first is None:
            self.first = positions[0]
        self.last = positions[-1]
        self.rows += len(positions)
        self.total += sum(positions)

    def check(self, expected: store.RangeCount) -> None:
        """Everything the snapshot holds in the range was sent: no more, no less."""
        sent = store.RangeCount(self.rows, self.first, self.last, self.total)
        if sent != expected:
            raise NotCovered(
                f"a hash worker of [{self.low}, {self.high}) sent {sent}, the snapshot holds {expected}"
            )


async def snapshot_counts(
    conn: asyncpg.Connection, bounds: Sequence[tuple[int, int]]
) -> list[store.RangeCount]:
    """What each range holds in this transaction's snapshot; an event at the one position no
    half-open range reaches (HIGHEST itself) is refused rather than left unhashed."""
    highest = await store.highest_position(conn)
    if highest is not None and highest >= bounds[-1][1]:
        raise NotCovered(f"an event at position {highest}, past every hash worker's range")
    return await store.range_counts(conn, bounds)
