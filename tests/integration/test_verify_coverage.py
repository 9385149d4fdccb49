"""The hash workers of `verify --checkpoints` must hash every event of the verifier's snapshot.

The verifier merges the heads the workers send and does not read the events itself; what
proves the workers covered them all is the count of each range under the verifier's own
snapshot (`app.ops.verify_ranges`). Each test here performs an attack that count defends
against, with real worker processes on real PostgreSQL, and the run must fail, not report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.ops import verify_checkpoints as verify_module
from app.ops.verify_hashers import HashWorkers
from app.ops.verify_ranges import HIGHEST, LOWEST, NotCovered, position_bounds, snapshot_counts
from app.store import merkle as store
from tests.integration.test_checkpoints import Ledger, ledger  # noqa: F401 (the fixture)


class SkippingWorkers(HashWorkers):
    """What the verifier receives from a worker that skipped a row: its first batch comes
    without its second event."""

    skipped = False

    def _receive(self, worker: int) -> tuple[Any, ...] | None:
        batch = super()._receive(worker)
        if batch is None or self.skipped:
            return batch
        self.skipped = True
        *heads, _ = batch  # positions, case ids, versions, stored hashes; the differing hashes
        return (*([*column[:1], *column[2:]] for column in heads), {})


async def test_a_worker_that_skips_a_row_fails_the_run(
    ledger: Ledger,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert (await ledger.verify(hash_workers=2)).ok  # the same log, whole
    monkeypatch.setattr(verify_module, "HashWorkers", SkippingWorkers)
    with pytest.raises(NotCovered, match="the snapshot holds"):
        await ledger.verify(hash_workers=2)


async def test_ranges_that_leave_a_gap_fail_the_run(
    ledger: Ledger,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def gapped(conn: Any, tree_size: int, workers: int) -> list[tuple[int, int]]:
        middle = await store.leaf_positions(conn, [tree_size // 2])
        return [(LOWEST, middle[0]), (middle[0] + 1, HIGHEST)]  # the event at `middle` is nobody's

    monkeypatch.setattr(verify_module, "position_bounds", gapped)
    with pytest.raises(NotCovered, match="do not tile"):
        await ledger.verify(hash_workers=2)


async def test_workers_that_read_another_snapshot_are_refused(
    ledger: Ledger,  # noqa: F811
    tmp_path: Path,
) -> None:
    """The workers read the log as it was; the verifier's snapshot is taken after a case's
    last event was deleted: one row more in the workers' ranges than in the verifier's."""
    pool = ledger.pool
    async with pool.acquire() as old, old.transaction(isolation="repeatable_read", readonly=True):
        snapshot = await store.export_snapshot(old)
        bounds = await position_bounds(old, 29, 2)
        workers = HashWorkers(ledger.url, snapshot, bounds, tmp_path)
        workers.start()
        try:
            async with pool.acquire() as owner, owner.transaction():
                await owner.execute("ALTER TABLE events DISABLE TRIGGER ALL")
                await owner.execute("DELETE FROM events WHERE case_id = 'tail' AND version = 4")
                await owner.execute("ALTER TABLE events ENABLE TRIGGER ALL")
            async with pool.acquire() as now, now.transaction(isolation="repeatable_read", readonly=True):
                expected = await snapshot_counts(now, bounds)
            with pytest.raises(NotCovered, match="the snapshot holds"):
                async for _ in workers.batches(expected):
                    pass
        finally:
            workers.stop()


async def test_an_event_past_every_range_fails_the_run(ledger: Ledger) -> None:  # noqa: F811
    async with ledger.pool.acquire() as conn, conn.transaction():
        await conn.execute("ALTER TABLE events DISABLE TRIGGER ALL")
        await conn.execute(
            "INSERT INTO events (position, case_id, version, event_id, type, schema_version, data,"
            " metadata, recorded_at, hash) SELECT $1, 'past', 1, gen_random_uuid(), type,"
            " schema_version, data, metadata, recorded_at, hash FROM events WHERE case_id = 'later'"
            " AND version = 1",
            HIGHEST,
        )
        await conn.execute("ALTER TABLE events ENABLE TRIGGER ALL")
    with pytest.raises(NotCovered, match="past every"):
        await ledger.verify(hash_workers=2)
