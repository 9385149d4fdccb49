"""Signing a checkpoint: grow the tree over the stable prefix, sign its head, write it out.

Used by `caseledger checkpoint` (`app.ops.checkpoint`) and the service's interval signer
(`app.service.checkpoint_signer`).

One transaction, under an advisory lock so the CLI and the service's signer never both
extend the tree: policy versions not yet in the tree become leaves, then every event
between the last leaf's position and the feed's horizon (the same bound `GET /events`
uses, so a transaction that commits late can never land below a leaf already in the
tree), then the new frontier. The signed note goes to `DIR/<tree size>.checkpoint`
(one file per checkpoint, never overwritten) and into the `checkpoints` table, from
which the service serves it. Hashing runs in a worker thread, batch by batch.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.domain.checkpoint import Checkpoint, sign_checkpoint
from app.domain.merkle import HASH_SIZE, Frontier, leaf_hash
from app.domain.merkle_leaves import (
    event_leaf,
    policy_leaf,
    policy_version_digest,
    policy_version_record,
)
from app.domain.policy import PolicyTable
from app.store import merkle as store
from app.store.pool import Pool

CHECKPOINT_SUFFIX = ".checkpoint"


@dataclass(frozen=True, slots=True)
class TreeHead:
    size: int
    root: bytes
    last_position: int
    added: int  # leaves added by this extension


@dataclass(frozen=True, slots=True)
class Signer:
    """Who signs, and where the copies outside the database go."""

    key: Ed25519PrivateKey
    key_name: str
    origin: str
    out_dir: Path


def policy_leaf_rows(
    policy_id: str, policy: PolicyTable, known: set[tuple[int, bytes]], frontier: Frontier, position: int
) -> list[tuple[Any, ...]]:
    """Leaf rows for the policy versions the tree does not hold yet (appended to `frontier`)."""
    rows = []
    # Numbered by adoption when the table is recorded history (a retroactive version must
    # not shift the numbers of the leaves already in the tree), else by position.
    numbered = (
        [(a.number, a.version) for a in policy.adoptions]
        if policy.adoptions
        else list(enumerate(policy.versions, start=1))
    )
    for number, version in numbered:
        record = policy_version_record(version)
        digest = policy_version_digest(record)
        if (number, digest) in known:
            continue
        hashed = leaf_hash(policy_leaf(policy_id, number, record))
        rows.append((frontier.size, "policy", policy_id, number, digest, hashed, position))
        frontier.append(hashed)
    return rows


def event_leaf_rows(events: list[asyncpg.Record], frontier: Frontier) -> list[tuple[Any, ...]]:
    """Leaf rows for a batch of (position, case_id, version, hash), appended to `frontier`.

    Runs on every signing round, beside the appends: each leaf is hashed once and the
    frontier extended by the whole batch at the end (`Frontier.extend`)."""
    rows, hashes, index = [], [], frontier.size
    for position, case_id, version, stored_hash in events:
        leaf = event_leaf(case_id, version, stored_hash)
        hashed = leaf_hash(leaf)
        rows.append((index, "event", case_id, version, leaf[-HASH_SIZE:], hashed, position))
        hashes.append(hashed)
        index += 1
    frontier.extend(hashes)
    return rows


async def extend_tree(conn: asyncpg.Connection, policy: PolicyTable, policy_id: str) -> TreeHead:
    """Add the stable prefix's new leaves; the tree's head afterwards."""
    async with conn.transaction():
        await store.lock_tree(conn)
        resumed = await store.latest_frontier(conn)
        bound = await store.horizon(conn)
        frontier, last_position = Frontier(resumed.tree_size, resumed.hashes), resumed.last_position
        known = await store.known_policy_leaves(conn, policy_id)
        await store.write_leaves(conn, policy_leaf_rows(policy_id, policy, known, frontier, last_position))
        async for batch in store.new_event_batches(conn, last_position, bound):
            rows = await asyncio.to_thread(event_leaf_rows, batch, frontier)
            await store.write_leaves(conn, rows)
            last_position = batch[-1]["position"]
        if frontier.size != resumed.tree_size:
            await store.save_frontier(
                conn, store.StoredFrontier(frontier.size, last_position, frontier.hashes)
            )
    root = await asyncio.to_thread(frontier.root)
    return TreeHead(frontier.size, root, last_position, frontier.size - resumed.tree_size)


def checkpoint_path(out_dir: Path, tree_size: int) -> Path:
    return out_dir / f"{tree_size}{CHECKPOINT_SUFFIX}"


def write_once(path: Path, note: str) -> bool:
    """Write the note unless a checkpoint of that size is already there (never overwritten)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(note)
    return True


async def make_checkpoint(
    pool: Pool, policy: PolicyTable, policy_id: str, signer: Signer, *, now: datetime | None = None
) -> tuple[Path, str]:
    """Extend, sign, write `DIR/<size>.checkpoint`, record it; the file and the note.

    A tree that did not grow since the last recorded checkpoint is not signed again: the
    existing note is written out (if missing) and returned.
    """
    async with pool.acquire() as conn:
        head = await extend_tree(conn, policy, policy_id)
        existing = await store.checkpoint_of_size(conn, head.size)
        if existing is not None and existing.root_hash == head.root:
            note = existing.note
        else:
            checkpoint = Checkpoint(
                signer.origin, head.size, head.root, head.last_position, now or datetime.now(UTC)
            )
            note = sign_checkpoint(checkpoint, signer.key, signer.key_name)
            stored = store.StoredCheckpoint(head.size, head.root, head.last_position, checkpoint.time, note)
            await store.record_checkpoint(conn, stored)
    path = checkpoint_path(signer.out_dir, head.size)
    await asyncio.to_thread(write_once, path, note)
    return path, note
