"""One pass over a tree's leaf hashes, fed in batches: roots at chosen sizes and MTH of ranges.

Why a second shape next to `merkle.range_roots`: the leaves come from a database cursor
in batches (the caller awaits the next batch, then hashes it in a thread), so the walk
keeps its state between batches instead of pulling from an iterator. It answers, in the
same pass and in bounded memory:

- the frontier (and so the root) at each of `sizes`, e.g. every checkpoint's tree size;
- the MTH of each of `ranges`, e.g. the parts of an inclusion or consistency proof.

A consistency proof between two of the sizes needs only the frontier at the older size
(every proof range inside the old tree is one of its complete subtrees: see
`consistency_proof_from`) plus the ranges inside the newer part, so checking every
checkpoint against the next costs one extra subtree append per leaf.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from app.domain.merkle import Frontier, Range, consistency_ranges, inclusion_ranges, node_hash, split_point


class TreeWalk:
    """Feed leaf hashes in tree order; read `frontiers[size]` and `range_roots[range]`."""

    def __init__(self, sizes: Iterable[int] = (), ranges: Iterable[Range] = ()) -> None:
        self.tree = Frontier()
        self.frontiers: dict[int, Frontier] = {}
        self.range_roots: dict[Range, bytes] = {}
        self._sizes = sorted(set(sizes), reverse=True)  # popped from the end, smallest first
        self._ranges = sorted(set(ranges), reverse=True)
        self._active: list[tuple[Range, Frontier]] = []
        self._take_snapshots()

    @property
    def size(self) -> int:
        return self.tree.size

    def feed(self, leaf_hashes: Iterable[bytes]) -> None:
        """In segments that no checkpoint size, range start or range end cuts: each segment
        extends the tree and every open range's subtree in one `Frontier.extend`."""
        leaves = leaf_hashes if isinstance(leaf_hashes, list) else list(leaf_hashes)
        at = 0
        while at < len(leaves):
            size = self.tree.size
            while self._ranges and self._ranges[-1][0] == size:
                self._active.append((self._ranges.pop(), Frontier()))
            stop = min(
                len(leaves) - at,
                self._ranges[-1][0] - size if self._ranges else len(leaves),
                self._sizes[-1] - size if self._sizes else len(leaves),
                *(span[1] - size for span, _ in self._active),
            )
            segment = leaves[at : at + stop]
            for _, subtree in self._active:
                subtree.extend(segment)
            self.tree.extend(segment)
            at += stop
            self._close_ranges()
            self._take_snapshots()

    def _close_ranges(self) -> None:
        still_open = []
        for span, subtree in self._active:
            if span[1] == self.tree.size:
                self.range_roots[span] = subtree.root()
            else:
                still_open.append((span, subtree))
        self._active = still_open

    def _take_snapshots(self) -> None:
        while self._sizes and self._sizes[-1] == self.tree.size:
            self.frontiers[self._sizes.pop()] = Frontier(self.tree.size, self.tree.hashes)

    def fork(self) -> TreeWalk:
        """An independent walk in this one's state: two leaf sequences that agree so far
        share one walk, and part only where they differ."""
        twin = TreeWalk()
        twin.tree = Frontier(self.tree.size, self.tree.hashes)
        twin.frontiers = dict(self.frontiers)  # snapshots are never changed
        twin.range_roots = dict(self.range_roots)
        twin._sizes, twin._ranges = list(self._sizes), list(self._ranges)
        twin._active = [(span, Frontier(f.size, f.hashes)) for span, f in self._active]
        return twin

    def root_at(self, size: int) -> bytes | None:
        frontier = self.frontiers.get(size)
        return None if frontier is None else frontier.root()


def frontier_pieces(size: int) -> list[Range]:
    """The complete subtrees a frontier of `size` leaves holds, largest (leftmost) first."""
    pieces, start = [], 0
    for bit in reversed(range(size.bit_length())):
        if size >> bit & 1:
            pieces.append((start, start + (1 << bit)))
            start += 1 << bit
    return pieces


def new_part_ranges(old_size: int, new_size: int) -> list[Range]:
    """The ranges of PROOF(old, new) that lie after the old tree (to give a TreeWalk)."""
    return [r for r in consistency_ranges(old_size, new_size) if r[0] >= old_size]


def consistency_proof_from(old: Frontier, new_size: int, range_roots: dict[Range, bytes]) -> list[bytes]:
    """PROOF(old.size, D[new_size]) from the old frontier and the new part's range roots."""
    pieces = dict(zip(frontier_pieces(old.size), old.hashes, strict=True))
    proof = []
    for span in consistency_ranges(old.size, new_size):
        proof.append(pieces[span] if span[1] <= old.size else range_roots[span])
    return proof


def roots_of(ranges: Sequence[Range], walk: TreeWalk) -> list[bytes]:
    """The walked MTH of each range, in the order given (a proof's order)."""
    return [walk.range_roots[span] for span in ranges]


def covering_ranges(indexes: Iterable[int], size: int) -> set[Range]:
    """Disjoint ranges whose roots give the inclusion proofs of all `indexes` (walk them once).

    The nodes on the leaves' paths to the root are left out: each is the hash of its two
    children (`inclusion_proofs`), so no leaf is hashed into more than one walked range
    however many proofs are asked for.
    """
    siblings: set[Range] = set()
    on_path: set[Range] = set()
    leaves: set[Range] = set()
    for index in indexes:
        if not 0 <= index < size:
            raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
        leaves.add((index, index + 1))
        start, end = 0, size
        while end - start > 1:
            k = split_point(end - start)
            child, sibling = (
                ((start, start + k), (start + k, end))
                if index < start + k
                else ((start + k, end), (start, start + k))
            )
            on_path.add(child)
            siblings.add(sibling)
            start, end = child
    return (siblings - on_path) | leaves


def subtree_root(span: Range, walked: dict[Range, bytes]) -> bytes:
    """MTH of a node of the tree, from walked ranges or, on a path, from its children."""
    if span in walked:
        return walked[span]
    start, end = span
    k = split_point(end - start)
    return node_hash(subtree_root((start, start + k), walked), subtree_root((start + k, end), walked))


def inclusion_proofs(indexes: Iterable[int], size: int, walked: dict[Range, bytes]) -> dict[int, list[bytes]]:
    """PATH(index, D[size]) of each index, after walking `covering_ranges(indexes, size)`."""
    return {
        index: [subtree_root(span, walked) for span in inclusion_ranges(index, size)] for index in indexes
    }
