"""`caseledger verify --checkpoints DIR --public-key FILE.pub`: does the database still give them?

The checkpoint files are what is trusted; the database is what is checked:

1. every `*.checkpoint` in DIR is signed by the public key (`bad_signature`, ...);
2. one read-only pass over the recorded leaves and the events, both in tree order
   (`app.domain.tree_audit`), recomputes every event's hash from its content, rebuilds
   both trees, and checks that the events give each checkpoint's root
   (`checkpoint_not_reproduced`) and each checkpoint extends the one before
   (`inconsistent_checkpoints`, an RFC 9162 consistency proof); where they do not, the
   merge names the change (`case_rewritten`, `tail_deleted`, `case_deleted`,
   `event_inserted`, `events_reordered`, ...);
3. the read models are compared with a fresh fold of the events
   (`app.ops.verify_read_models`, `read_model_differs`).

Memory is bounded by a batch of rows and the findings.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from app.domain.audit_rows import recomputed_hashes
from app.domain.checkpoint import (
    Checkpoint,
    CheckpointError,
    Verifier,
    check_consistent,
    verify_signed_checkpoint,
)
from app.domain.hashing import StoredRowHasher
from app.domain.merkle_walk import TreeWalk, consistency_proof_from, new_part_ranges
from app.domain.policy import PolicyTable
from app.domain.tree_audit import Finding, TreeAudit, deletion_findings
from app.ops.gc import collect_batch, collector_between_batches
from app.ops.predecessors import Predecessors
from app.ops.verify_hashers import PARALLEL_FROM, HashWorkers
from app.ops.verify_ranges import position_bounds, snapshot_counts
from app.ops.verify_read_models import read_model_findings
from app.service.checkpointing import CHECKPOINT_SUFFIX
from app.store import merkle as store
from app.store.pool import Pool

SHOWN_PER_CODE = 20


@dataclass(slots=True)
class CheckpointReport:
    checkpoints: int = 0
    events: int = 0
    findings: list[Finding] = field(default_factory=list)
    # the hash workers' peak RSS (`app.ops.verify_hashers`), none when all ran here
    worker_peak_rss_kb: list[int] = field(default_factory=list, compare=False)
    read_models_checked: bool = field(default=True, compare=False)

    @property
    def ok(self) -> bool:
        return not self.findings and self.checkpoints > 0

    def codes(self) -> set[str]:
        return {f.code for f in self.findings}

    def text(self) -> str:
        head = f"checked {self.checkpoints} checkpoints against {self.events} events"
        if self.ok:
            tail = ", and the read models equal the log" if self.read_models_checked else ""
            return f"{head}: the database still gives every checkpoint{tail}"
        if not self.checkpoints and not self.findings:
            return f"{head}: no checkpoint to check against"
        lines = [f"{head}: {len(self.findings)} findings"]
        shown: dict[str, int] = {}
        for finding in self.findings:
            shown[finding.code] = shown.get(finding.code, 0) + 1
            if shown[finding.code] <= SHOWN_PER_CODE:
                lines.append(f"  {finding.text()}")
        lines += [
            f"  ... and {n - SHOWN_PER_CODE} more {code}" for code, n in shown.items() if n > SHOWN_PER_CODE
        ]
        return "\n".join(lines)


def load_checkpoints(directory: Path, verifier: Verifier) -> tuple[list[Checkpoint], list[Finding]]:
    """The signed checkpoints in `directory`, smallest tree first, and why any was refused."""
    checkpoints: dict[int, Checkpoint] = {}
    findings = []
    for path in sorted(directory.glob(f"*{CHECKPOINT_SUFFIX}")):
        try:
            checkpoint = verify_signed_checkpoint(path.read_text(encoding="utf-8"), verifier)
        except (CheckpointError, UnicodeDecodeError) as error:
            code = error.code if isinstance(error, CheckpointError) else "malformed_checkpoint"
            findings.append(Finding(code, "-", 0, f"{path.name}: {error}"))
            continue
        seen = checkpoints.setdefault(checkpoint.tree_size, checkpoint)
        if seen.root_hash != checkpoint.root_hash:
            findings.append(
                Finding("forked_checkpoints", "-", 0, f"two roots signed for size {seen.tree_size}")
            )
    return [checkpoints[size] for size in sorted(checkpoints)], findings


async def verify_checkpoints(
    pool: Pool,
    directory: Path,
    verifier: Verifier,
    policy: PolicyTable,
    *,
    read_models: bool = True,
    url: str | None = None,
    hash_workers: int | None = None,
) -> CheckpointReport:
    """`url` (the pool's database) lets the events' hashes be recomputed by `hash_workers`
    processes (`app.ops.verify_hashers`; by default 2 on a log of PARALLEL_FROM events or
    more and a machine with 2 cores or more, else none: all in this process)."""
    checkpoints, findings = load_checkpoints(directory, verifier)
    report = CheckpointReport(len(checkpoints), 0, findings, read_models_checked=read_models)
    if not checkpoints:
        return report
    audit = _audit_for(checkpoints)
    with collector_between_batches(), tempfile.TemporaryDirectory(prefix="caseledger-verify-") as folder:
        async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            hashers = await _hashers(conn, url, checkpoints[-1].tree_size, hash_workers, Path(folder))
            try:
                await _run(conn, audit, hashers)
            finally:
                if hashers is not None:
                    hashers.stop()
                    report.worker_peak_rss_kb = hashers.peak_rss_kb
            remaining = await store.case_event_counts(conn, list(audit.deletions))
    report.events = audit.events
    report.findings += deletion_findings(audit.deletions, remaining) + audit.findings
    report.findings += _tree_findings(checkpoints, audit)
    if read_models:
        report.findings += await read_model_findings(pool, policy)
    return report


def _audit_for(checkpoints: list[Checkpoint]) -> TreeAudit:
    sizes = [c.tree_size for c in checkpoints]
    ranges = [r for old, new in itertools.pairwise(sizes) for r in new_part_ranges(old, new)]
    return TreeAudit(TreeWalk(sizes, ranges), checkpoints[-1].last_position)


async def _hashers(
    conn: asyncpg.Connection, url: str | None, tree_size: int, workers: int | None, folder: Path
) -> HashWorkers | None:
    """The hash workers, started on this transaction's snapshot (its first statement)."""
    if workers is None:
        workers = min(2, os.cpu_count() or 1) if tree_size >= PARALLEL_FROM else 0
    if url is None or workers < 1:
        return None
    snapshot = await store.export_snapshot(conn)
    hashers = HashWorkers(url, snapshot, await position_bounds(conn, tree_size, workers), folder)
    hashers.start()
    return hashers


async def _run(conn: asyncpg.Connection, audit: TreeAudit, hashers: HashWorkers | None) -> None:
    stored = aiter(store.stored_leaf_batches(conn))
    if hashers is None:  # the whole events, hashed here
        events = _hashed_here(conn)
    else:  # the workers send each event's head with its hash; the snapshot's counts vouch for them
        events = hashers.batches(await snapshot_counts(conn, hashers.bounds))
    while not audit.finished:
        if audit.wants_stored:
            batch = await anext(stored, None)
            audit.stored_done = batch is None
            audit.add_stored(batch or ())
        if audit.wants_events:
            hashed = await anext(events, None)
            audit.events_done = hashed is None
            audit.add_events(*(hashed or ([], [])))
            collect_batch()
        audit.drain()


async def _hashed_here(conn: asyncpg.Connection) -> AsyncIterator[tuple[list[Any], list[str | None]]]:
    """Every event, a batch at a time, with its hash recomputed in this process."""
    predecessors, hasher = Predecessors(), StoredRowHasher()
    async for batch in store.event_batches(conn):
        yield batch, recomputed_hashes(batch, await predecessors.of(conn, batch), hasher)


def _tree_findings(checkpoints: list[Checkpoint], audit: TreeAudit) -> list[Finding]:
    """Each checkpoint's root from the events, and each one's consistency with the next."""
    findings = []
    for checkpoint in checkpoints:
        if audit.derived.root_at(checkpoint.tree_size) != checkpoint.root_hash:
            detail = f"the events no longer give the root signed at {checkpoint.time:%Y-%m-%d %H:%M:%S}"
            findings.append(Finding("checkpoint_not_reproduced", "-", checkpoint.tree_size, detail))
        if audit.recorded.root_at(checkpoint.tree_size) != checkpoint.root_hash:
            detail = "the database's recorded leaves do not give this checkpoint's root"
            findings.append(Finding("tree_rows_rewritten", "-", checkpoint.tree_size, detail))
    for older, newer in itertools.pairwise(checkpoints):
        findings += _consistency(older, newer, audit)
    return findings


def _consistency(older: Checkpoint, newer: Checkpoint, audit: TreeAudit) -> list[Finding]:
    """Prove `newer` extends `older` from whichever tree gives `newer`'s root."""
    for walk in (audit.derived, audit.recorded):
        old = walk.frontiers.get(older.tree_size)
        if old is None or walk.root_at(newer.tree_size) != newer.root_hash:
            continue
        try:
            check_consistent(older, newer, consistency_proof_from(old, newer.tree_size, walk.range_roots))
        except CheckpointError as error:
            return [Finding(error.code, "-", newer.tree_size, error.detail)]
        return []
    return []  # neither tree gives the newer root: already named by checkpoint_not_reproduced
