"""Proofs against the signed tree, from the recorded leaf hashes: inclusion and consistency.

A proof is the MTH of a few ranges of leaves, so serving one reads the leaf hashes up to
the tree size once (a cursor, in batches) and hashes each batch in a worker thread:
the event loop only awaits. The proofs are checked by whoever receives them against a
checkpoint they hold; nothing here needs to be trusted.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterable
from typing import Any
from uuid import UUID

import asyncpg

from app.domain.merkle import Range
from app.domain.merkle_walk import (
    TreeWalk,
    consistency_proof_from,
    covering_ranges,
    inclusion_proofs,
    new_part_ranges,
)
from app.service.errors import ServiceError
from app.store import merkle as store
from app.store.pool import Pool


def encoded(proof: list[bytes]) -> list[str]:
    return [base64.b64encode(p).decode() for p in proof]


async def walk_leaves(
    conn: asyncpg.Connection, size: int, *, sizes: Iterable[int] = (), ranges: Iterable[Range] = ()
) -> TreeWalk:
    """One pass over the first `size` recorded leaf hashes (call inside a transaction)."""
    walk = TreeWalk(sizes, ranges)
    async for batch in store.leaf_hash_batches(conn, size):
        await asyncio.to_thread(walk.feed, batch)
    if walk.size != size:
        raise ServiceError("not_found", f"the tree has {walk.size} leaves, not {size}")
    return walk


async def proofs_of(conn: asyncpg.Connection, indexes: list[int], size: int) -> dict[int, list[bytes]]:
    """The inclusion proof of each leaf index in the tree of `size` leaves."""
    if not indexes:
        return {}
    walk = await walk_leaves(conn, size, ranges=covering_ranges(indexes, size))
    return inclusion_proofs(indexes, size, walk.range_roots)


async def _tree_size(conn: asyncpg.Connection, tree_size: int | None) -> int:
    latest = await store.latest_checkpoint(conn)
    if latest is None:
        raise ServiceError("not_found", "no checkpoint has been signed yet")
    if tree_size is None:
        return latest.tree_size
    if tree_size > latest.tree_size or tree_size < 1:
        raise ServiceError(
            "invalid_request", f"tree_size must be between 1 and {latest.tree_size}, the newest checkpoint"
        )
    return tree_size


async def event_inclusion(pool: Pool, event_id: UUID, tree_size: int | None) -> dict[str, Any]:
    """{event_id, case_id, version, leaf_index, tree_size, inclusion_proof (base64)}."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        size = await _tree_size(conn, tree_size)
        leaf = await store.event_leaf_index(conn, event_id)
        if leaf is None or leaf["leaf_index"] >= size:
            raise ServiceError("not_found", f"event {event_id} is not in the tree of {size} leaves")
        proof = (await proofs_of(conn, [leaf["leaf_index"]], size))[leaf["leaf_index"]]
    return {
        "event_id": str(event_id),
        "case_id": leaf["case_id"],
        "version": leaf["version"],
        "leaf_index": leaf["leaf_index"],
        "tree_size": size,
        "inclusion_proof": encoded(proof),
    }


async def consistency(pool: Pool, old_size: int, new_size: int) -> dict[str, Any]:
    """PROOF(old_size, D[new_size]), base64, for two sizes up to the newest checkpoint."""
    if not 1 <= old_size <= new_size:
        raise ServiceError("invalid_request", "from must be at least 1 and at most to")
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        await _tree_size(conn, new_size)
        walk = await walk_leaves(conn, new_size, sizes=[old_size], ranges=new_part_ranges(old_size, new_size))
    proof = consistency_proof_from(walk.frontiers[old_size], new_size, walk.range_roots)
    return {"from": old_size, "to": new_size, "consistency_proof": encoded(proof)}
