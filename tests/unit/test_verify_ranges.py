"""The verifier no longer reads the events the hash workers hash: what each worker sends is
checked against its range and the snapshot's count instead. Each attack on that check, as
the verifier would see it, must be refused, not merged."""

from __future__ import annotations

import pytest

from app.ops.verify_ranges import HIGHEST, LOWEST, NotCovered, RangeTally, check_tiling
from app.store.merkle import RangeCount


def sent(tally: RangeTally, *batches: list[int]) -> RangeTally:
    for batch in batches:
        tally.add(batch)
    return tally


def snapshot_of(positions: list[int]) -> RangeCount:
    return RangeCount(
        len(positions), min(positions, default=None), max(positions, default=None), sum(positions)
    )


def test_ranges_that_tile_every_position_pass() -> None:
    check_tiling([(LOWEST, HIGHEST)])
    check_tiling([(LOWEST, 100), (100, 5000), (5000, HIGHEST)])


@pytest.mark.parametrize(
    "bounds",
    [
        [(LOWEST, 100), (101, HIGHEST)],  # a gap: position 100 is nobody's
        [(LOWEST, 100), (99, HIGHEST)],  # an overlap: 99 hashed twice
        [(0, HIGHEST)],  # negative positions left out
        [(LOWEST, 100)],  # the top left out
        [(LOWEST, 100), (100, 100), (100, HIGHEST)],  # an empty range
        [(100, HIGHEST), (LOWEST, 100)],  # out of order
        [],
    ],
)
def test_ranges_that_leave_a_gap_or_overlap_are_refused(bounds: list[tuple[int, int]]) -> None:
    with pytest.raises(NotCovered):
        check_tiling(bounds)


def test_a_worker_that_sends_its_whole_range_passes() -> None:
    tally = sent(RangeTally(10, 20), [10, 12], [13, 19])
    tally.check(snapshot_of([10, 12, 13, 19]))
    RangeTally(10, 20).check(snapshot_of([]))  # an empty range, nothing sent


@pytest.mark.parametrize(
    "batches",
    [
        [[10, 12], [19]],  # skipped 13 between batches
        [[10, 13], [19]],  # skipped 12 inside a batch
        [[12, 13], [19]],  # skipped the first
        [[10, 12, 13]],  # skipped the last
        [[10, 12, 14, 19]],  # another row in 13's place (another snapshot's)
    ],
)
def test_a_worker_that_skips_or_swaps_a_row_is_refused(batches: list[list[int]]) -> None:
    tally = sent(RangeTally(10, 20), *batches)
    with pytest.raises(NotCovered):
        tally.check(snapshot_of([10, 12, 13, 19]))


@pytest.mark.parametrize(
    "batches",
    [
        [[10, 12, 12]],  # a row twice in a batch
        [[10, 12], [12, 13]],  # a row twice across batches
        [[10, 13, 12]],  # out of order
        [[10, 12], [11]],  # a later batch going back
        [[9, 10]],  # below the range
        [[18, 20]],  # at its (exclusive) end: the next worker's
    ],
)
def test_a_worker_that_sends_a_row_twice_or_out_of_its_range_is_refused(batches: list[list[int]]) -> None:
    with pytest.raises(NotCovered):
        sent(RangeTally(10, 20), *batches)
