"""What the checkpoint tree costs over N leaves: root, one inclusion and one consistency proof.

Run: `.venv/bin/python -m bench.merkle_cost 1000000`. Leaf hashes are generated on the fly
(as a store cursor would stream them), so peak memory is the tree code's, not a list's.
"""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Iterator

from app.domain.merkle import (
    consistency_proof,
    inclusion_proof,
    tree_root,
    verify_consistency,
    verify_inclusion,
)
from app.domain.merkle_leaves import event_leaf_hash


def leaf_hashes(count: int) -> Iterator[bytes]:
    digest = "ab" * 32
    for n in range(count):
        yield event_leaf_hash(f"case-{n // 8}", n % 8 + 1, digest)


def timed(label: str, work):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = work()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{label}: {time.perf_counter() - started:.2f} s (peak RSS so far {peak:.0f} MiB)")
    return result


def main(size: int) -> None:
    old_size, index = size // 3 + 7, size // 2 + 1
    root = timed(f"root of {size} leaves", lambda: tree_root(leaf_hashes(size)))
    old_root = tree_root(leaf_hashes(old_size))
    path = timed(f"inclusion proof of leaf {index}", lambda: inclusion_proof(index, size, leaf_hashes(size)))
    proof = timed(
        f"consistency proof {old_size} -> {size}",
        lambda: consistency_proof(old_size, size, leaf_hashes(size)),
    )
    leaf = next(h for n, h in enumerate(leaf_hashes(size)) if n == index)
    assert verify_inclusion(leaf, index, size, path, root)
    assert verify_consistency(old_size, size, old_root, root, proof)
    print(f"proof lengths: inclusion {len(path)}, consistency {len(proof)}; both verify")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
