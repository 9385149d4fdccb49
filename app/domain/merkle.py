"""An append-only Merkle tree exactly as RFC 9162 (Certificate Transparency v2) section 2.1 defines it.

Why home-made and not `pymerkle`: see docs/trust.md ("Why this tree code"). In short, the
hashing is 30 lines anyone can check against the RFC, the proofs must be the RFC's bare
PATH/PROOF hash lists (pymerkle adds its own base hash and rule bits), and the leaves live
in PostgreSQL in feed order, which pymerkle's synchronous SQLite/in-memory backends cannot
read without blocking the event loop or holding the whole tree in memory.

The tree is never materialised: `Frontier` keeps the roots of the complete subtrees
(at most 64 hashes) and so computes MTH over any number of leaves in bounded memory;
proofs are the MTH of a few leaf ranges (`inclusion_ranges`, `consistency_ranges`),
resolved in one pass over an iterator of leaf hashes (`range_roots`) or, later, from stored
subtree hashes. Verification is the RFC's own algorithm (2.1.3.2 and 2.1.4.2), step for step.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from hmac import compare_digest
from itertools import islice

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()  # MTH({}) = HASH()

Range = tuple[int, int]  # leaves [start, end), counted from 0 in feed order


def leaf_hash(leaf: bytes) -> bytes:
    """MTH({d0}) = SHA-256(0x00 || d0)."""
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || MTH(left) || MTH(right))."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(width: int) -> int:
    """k: the largest power of two smaller than `width` (width >= 2)."""
    return 1 << ((width - 1).bit_length() - 1)


class Frontier:
    """The roots of the complete subtrees of a tree of `size` leaves, largest first.

    Appending merges equal-sized subtrees like a binary counter carries, so a root over
    millions of leaves needs one pass and at most 64 hashes of memory. `hashes` and `size`
    are all a store needs to keep to continue the tree from the last checkpoint.
    """

    __slots__ = ("_hashes", "size")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if size < 0 or len(hashes) != size.bit_count():
            raise ValueError(f"a frontier of {size} leaves has {size.bit_count()} subtree roots")
        self.size = size
        self._hashes = list(hashes)

    @property
    def hashes(self) -> tuple[bytes, ...]:
        return tuple(self._hashes)

    def append(self, leaf_hash_: bytes) -> None:
        hashes, carry = self._hashes, self.size
        hashes.append(leaf_hash_)
        while carry & 1:
            right = hashes.pop()
            hashes[-1] = node_hash(hashes[-1], right)
            carry >>= 1
        self.size += 1

    def extend(self, leaf_hashes: Iterable[bytes]) -> Frontier:
        """`append` each, inlined: a verifier extends by a million leaves (about half the cost)."""
        hashes, size, sha256 = self._hashes, self.size, hashlib.sha256
        for hashed in leaf_hashes:
            carry = size
            while carry & 1:  # merge the new subtree with equal-sized ones on its left
                hashed = sha256(b"\x01" + hashes.pop() + hashed).digest()
                carry >>= 1
            hashes.append(hashed)
            size += 1
        self.size = size
        return self

    def root(self) -> bytes:
        """MTH of all leaves so far: the subtree roots folded from the right."""
        if not self._hashes:
            return EMPTY_ROOT
        root = self._hashes[-1]
        for left in reversed(self._hashes[:-1]):
            root = node_hash(left, root)
        return root


def tree_root(leaf_hashes: Iterable[bytes]) -> bytes:
    """MTH over all the given leaf hashes."""
    return Frontier().extend(leaf_hashes).root()


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The ranges whose MTH make up PATH(index, D[size]), leaf sibling first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
    ranges: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = split_point(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()
    return ranges


def consistency_ranges(old_size: int, new_size: int) -> list[Range]:
    """The ranges whose MTH make up PROOF(m, D[n]) = SUBPROOF(m, D[n], true).

    Empty when m == n or m == 0 (every tree extends itself and the empty tree).
    """
    if not 0 <= old_size <= new_size:
        raise ValueError(f"no consistency proof from {old_size} to {new_size} leaves")
    if old_size in (0, new_size):
        return []
    ranges: list[Range] = []
    m, start, width, whole_subtree = old_size, 0, new_size, True
    while m != width:
        k = split_point(width)
        if m <= k:
            ranges.append((start + k, start + width))
            width = k
        else:
            ranges.append((start, start + k))
            start, m, width, whole_subtree = start + k, m - k, width - k, False
    if not whole_subtree:
        ranges.append((start, start + width))
    ranges.reverse()
    return ranges


def range_roots(ranges: Sequence[Range], leaf_hashes: Iterable[bytes]) -> list[bytes]:
    """MTH of each of the disjoint `ranges`, in one pass over the leaf hashes in feed order."""
    roots: list[bytes] = [b""] * len(ranges)
    leaves: Iterator[bytes] = iter(leaf_hashes)
    position = 0
    for slot in sorted(range(len(ranges)), key=lambda i: ranges[i][0]):
        start, end = ranges[slot]
        if start < position:
            raise ValueError("proof ranges overlap")
        next(islice(leaves, start - position, start - position), None)  # skip to start
        subtree = Frontier().extend(islice(leaves, end - start))
        if subtree.size != end - start:
            raise ValueError(f"fewer than {end} leaf hashes were given")
        roots[slot] = subtree.root()
        position = end
    return roots


def inclusion_proof(index: int, size: int, leaf_hashes: Iterable[bytes]) -> list[bytes]:
    """PATH(index, D[size]) from the leaf hashes in feed order (at least `size` of them)."""
    return range_roots(inclusion_ranges(index, size), leaf_hashes)


def consistency_proof(old_size: int, new_size: int, leaf_hashes: Iterable[bytes]) -> list[bytes]:
    """PROOF(old_size, D[new_size]) from the leaf hashes in feed order."""
    return range_roots(consistency_ranges(old_size, new_size), leaf_hashes)


def _shift_until_odd_or_zero(fn: int, sn: int) -> tuple[int, int]:
    while fn and not fn & 1:
        fn, sn = fn >> 1, sn >> 1
    return fn, sn


def verify_inclusion(hashed_leaf: bytes, index: int, size: int, path: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 2.1.3.2: does `path` prove leaf `index` of a tree of `size` with this root?"""
    if not 0 <= index < size or any(len(p) != HASH_SIZE for p in path):
        return False
    fn, sn, r = index, size - 1, hashed_leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            fn, sn = _shift_until_odd_or_zero(fn, sn)
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and compare_digest(r, root)


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 2.1.4.2: is the tree (new_size, new_root) an append-only extension of the old one?"""
    if not 0 <= old_size <= new_size or any(len(c) != HASH_SIZE for c in proof):
        return False
    if old_size == new_size:
        return not proof and compare_digest(old_root, new_root)
    if old_size == 0:
        return not proof and compare_digest(old_root, EMPTY_ROOT)
    if not proof:
        return False
    path = [old_root, *proof] if old_size & (old_size - 1) == 0 else list(proof)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            fn, sn = _shift_until_odd_or_zero(fn, sn)
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and compare_digest(fr, old_root) and compare_digest(sr, new_root)
