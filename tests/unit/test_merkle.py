"""The checkpoint tree is RFC 9162's: same roots, same proofs, and tampering fails verification.

Two independent witnesses: the published RFC 6962/9162 test vectors (from Trillian's
log verifier tests, Apache-2.0), and the RFC's recursive definitions of MTH, PATH and
PROOF written out literally below and compared for every (m, n) up to 40 leaves.
"""

from __future__ import annotations

import pytest

from app.domain.merkle import (
    EMPTY_ROOT,
    Frontier,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    split_point,
    tree_root,
    verify_consistency,
    verify_inclusion,
)
from app.domain.merkle_leaves import event_leaf, leaf_bytes

VECTOR_LEAVES = [bytes.fromhex(h) for h in ["", "00", "10", "2021", "3031", "40414243"]] + [
    bytes.fromhex("5051525354555657"),
    bytes.fromhex("606162636465666768696a6b6c6d6e6f"),
]
VECTOR_ROOTS = [  # MTH of the first 1..8 vector leaves
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
A = "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"
B = "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"
C = "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"
D = "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"
E = "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"
VECTOR_INCLUSION = [  # (index, size, PATH)
    (0, 1, []),
    (0, 8, [A, B, C]),
    (5, 8, [D, E, VECTOR_ROOTS[3]]),
    (2, 3, [VECTOR_ROOTS[1]]),
    (1, 5, [VECTOR_ROOTS[0], B, D]),
]
VECTOR_CONSISTENCY = [  # (m, n, PROOF)
    (1, 1, []),
    (1, 8, [A, B, C]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a", E, VECTOR_ROOTS[3]]),
    (2, 5, [B, D]),
]
VECTOR_HASHES = [leaf_hash(leaf) for leaf in VECTOR_LEAVES]


def rfc_mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = split_point(len(leaves))
    return node_hash(rfc_mth(leaves[:k]), rfc_mth(leaves[k:]))


def rfc_path(m: int, leaves: list[bytes]) -> list[bytes]:
    if len(leaves) == 1:
        return []
    k = split_point(len(leaves))
    if m < k:
        return [*rfc_path(m, leaves[:k]), rfc_mth(leaves[k:])]
    return [*rfc_path(m - k, leaves[k:]), rfc_mth(leaves[:k])]


def rfc_subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    if m == len(leaves):
        return [] if whole else [rfc_mth(leaves)]
    k = split_point(len(leaves))
    if m <= k:
        return [*rfc_subproof(m, leaves[:k], whole), rfc_mth(leaves[k:])]
    return [*rfc_subproof(m - k, leaves[k:], False), rfc_mth(leaves[:k])]


HASHES_40 = [leaf_hash(i.to_bytes(4, "big")) for i in range(40)]


def test_roots_match_the_published_vectors() -> None:
    assert tree_root([]) == EMPTY_ROOT
    for size, root in enumerate(VECTOR_ROOTS, start=1):
        assert tree_root(VECTOR_HASHES[:size]).hex() == root


@pytest.mark.parametrize(("index", "size", "path"), VECTOR_INCLUSION)
def test_inclusion_proofs_match_the_published_vectors(index: int, size: int, path: list[str]) -> None:
    proof = inclusion_proof(index, size, VECTOR_HASHES)
    assert [p.hex() for p in proof] == path
    root = bytes.fromhex(VECTOR_ROOTS[size - 1])
    assert verify_inclusion(VECTOR_HASHES[index], index, size, proof, root)


@pytest.mark.parametrize(("m", "n", "proof_hex"), VECTOR_CONSISTENCY)
def test_consistency_proofs_match_the_published_vectors(m: int, n: int, proof_hex: list[str]) -> None:
    proof = consistency_proof(m, n, VECTOR_HASHES)
    assert [p.hex() for p in proof] == proof_hex
    old, new = (bytes.fromhex(VECTOR_ROOTS[s - 1]) for s in (m, n))
    assert verify_consistency(m, n, old, new, proof)


def test_every_root_and_proof_up_to_40_leaves_is_the_rfc_definition_and_verifies() -> None:
    for n in range(1, 41):
        leaves = HASHES_40[:n]
        root = rfc_mth(leaves)
        assert tree_root(leaves) == root
        for m in range(n):
            path = inclusion_proof(m, n, HASHES_40)
            assert path == rfc_path(m, leaves)
            assert verify_inclusion(leaves[m], m, n, path, root)
        for m in range(1, n + 1):
            proof = consistency_proof(m, n, HASHES_40)
            assert proof == rfc_subproof(m, leaves, True)
            assert verify_consistency(m, n, rfc_mth(HASHES_40[:m]), root, proof)


def test_a_frontier_resumes_where_a_stored_one_left_off() -> None:
    first = Frontier().extend(HASHES_40[:23])
    resumed = Frontier(first.size, first.hashes).extend(HASHES_40[23:])
    assert resumed.root() == tree_root(HASHES_40)
    with pytest.raises(ValueError):
        Frontier(23, first.hashes[:-1])


def test_a_tampered_leaf_or_wrong_position_fails_inclusion() -> None:
    root, forged = tree_root(HASHES_40), leaf_hash(b"forged")
    for m in range(40):
        path = inclusion_proof(m, 40, HASHES_40)
        assert not verify_inclusion(forged, m, 40, path, root)
        assert not verify_inclusion(HASHES_40[m], m ^ 1, 40, path, root)
        assert not verify_inclusion(HASHES_40[m], m, 80, path, root)
        assert not verify_inclusion(HASHES_40[m], m, 20, path, root)
        assert not verify_inclusion(HASHES_40[m], m, 40, [*path, root], root)
        if path:
            assert not verify_inclusion(HASHES_40[m], m, 40, path[:-1], root)
            assert not verify_inclusion(HASHES_40[m], m, 40, [EMPTY_ROOT, *path[1:]], root)


def test_reordered_dropped_or_replaced_history_fails_consistency() -> None:
    old_root = tree_root(HASHES_40[:17])
    swapped = [*HASHES_40[:3], HASHES_40[4], HASHES_40[3], *HASHES_40[5:]]
    dropped = HASHES_40[:10] + HASHES_40[11:] + [leaf_hash(b"filler")]
    edited = [*HASHES_40[:5], leaf_hash(b"edited"), *HASHES_40[6:]]
    for history in (swapped, dropped, edited):
        proof = consistency_proof(17, 40, history)
        assert not verify_consistency(17, 40, old_root, tree_root(history), proof)
    honest = consistency_proof(17, 40, HASHES_40)
    new_root = tree_root(HASHES_40)
    assert verify_consistency(17, 40, old_root, new_root, honest)
    assert not verify_consistency(17, 40, new_root, old_root, honest)
    assert not verify_consistency(16, 40, old_root, new_root, honest)
    assert not verify_consistency(17, 40, old_root, new_root, honest[:-1])
    assert not verify_consistency(17, 40, old_root, new_root, [])


def test_trivial_consistency_needs_an_empty_proof_and_matching_roots() -> None:
    root = tree_root(HASHES_40)
    assert verify_consistency(40, 40, root, root, [])
    assert not verify_consistency(40, 40, root, EMPTY_ROOT, [])
    assert verify_consistency(0, 40, EMPTY_ROOT, root, [])
    assert not verify_consistency(0, 40, EMPTY_ROOT, root, [root])
    assert not verify_consistency(41, 40, root, root, [])


def test_proofs_need_enough_leaves() -> None:
    with pytest.raises(ValueError):
        inclusion_proof(3, 41, HASHES_40)
    with pytest.raises(ValueError):
        inclusion_proof(40, 40, HASHES_40)


def test_leaf_bytes_are_unambiguous() -> None:
    digest = bytes(range(32))
    assert event_leaf("c-1", 2, digest.hex()) != event_leaf("c-12", 0, digest.hex())
    assert leaf_bytes("event", "c", 1, digest) != leaf_bytes("policy", "c", 1, digest)
    assert event_leaf("c-1", 2, digest.hex()) == (
        b"\x01" + b"\x00\x03" + b"c-1" + (2).to_bytes(8, "big") + digest
    )
    with pytest.raises(ValueError):
        leaf_bytes("event", "c", 1, digest[:31])
