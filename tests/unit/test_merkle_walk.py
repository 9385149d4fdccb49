"""A walk fed in batches gives the same roots and proofs as the RFC's one-pass definitions."""

from __future__ import annotations

import hashlib
import itertools

import pytest

from app.domain.merkle import Frontier, consistency_proof, inclusion_proof, leaf_hash, tree_root
from app.domain.merkle_walk import (
    TreeWalk,
    consistency_proof_from,
    covering_ranges,
    frontier_pieces,
    inclusion_proofs,
    new_part_ranges,
)

LEAVES = [leaf_hash(hashlib.sha256(str(n).encode()).digest()) for n in range(70)]


def fed_in_batches(walk: TreeWalk, leaves: list[bytes], batch: int = 7) -> TreeWalk:
    for start in range(0, len(leaves), batch):
        walk.feed(leaves[start : start + batch])
    return walk


@pytest.mark.parametrize("size", [0, 1, 2, 3, 8, 13, 64, 70])
def test_frontier_pieces_are_the_frontiers_subtrees(size: int) -> None:
    frontier = Frontier().extend(LEAVES[:size])
    pieces = frontier_pieces(size)
    assert [tree_root(LEAVES[s:e]) for s, e in pieces] == list(frontier.hashes)


def test_roots_at_every_checkpoint_size_and_consistency_between_them() -> None:
    sizes = [1, 5, 8, 13, 40, 70]
    ranges = [r for old, new in itertools.pairwise(sizes) for r in new_part_ranges(old, new)]
    walk = fed_in_batches(TreeWalk(sizes, ranges), LEAVES)
    for size in sizes:
        assert walk.root_at(size) == tree_root(LEAVES[:size])
    for old, new in itertools.pairwise(sizes):
        proof = consistency_proof_from(walk.frontiers[old], new, walk.range_roots)
        assert proof == consistency_proof(old, new, LEAVES)


@pytest.mark.parametrize("size", [1, 2, 7, 16, 33, 70])
def test_many_inclusion_proofs_from_one_walk_of_disjoint_ranges(size: int) -> None:
    indexes = sorted({0, size // 3, size // 2, size - 1})
    ranges = covering_ranges(indexes, size)
    covered = sorted(ranges)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(covered))  # disjoint
    walk = fed_in_batches(TreeWalk((), ranges), LEAVES[:size])
    proofs = inclusion_proofs(indexes, size, walk.range_roots)
    assert proofs == {i: inclusion_proof(i, size, LEAVES) for i in indexes}
