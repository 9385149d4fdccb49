"""The importer's bulk write (COPY of the events, the heads moved in set statements): what
`caseledger_append` guarantees holds for imported rows too."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from app.domain.case import FOLD_VERSION
from app.domain.policy import DEFAULT_POLICY
from app.ops.bulk_import import import_file
from app.ops.sample import write_export
from app.ops.verify import verify_all
from app.store import streams as store
from app.store.appends import AppendCall, LostRace
from app.store.bulk_appends import copy_appends
from app.store.pool import Pool


def _call(case_id: str, expected_version: int, *, event_id: uuid.UUID | None = None) -> AppendCall:
    return AppendCall(
        case_id,
        expected_version,
        [event_id or uuid.uuid4()],
        ["IPEAmended"],
        [1],
        [{"amended_on": "2024-02-01", "service_categories_added": ["benefits"], "note": "a \\ and a \t"}],
        [{"actor": "import:test"}],
        ["a" * 64],
        datetime(2024, 2, 1, tzinfo=UTC),
        FOLD_VERSION,
        None,
        None,
        None,
    )


async def test_imported_events_keep_the_append_functions_positions_versions_and_chain(
    fresh: tuple[str, Pool], tmp_path: Path
) -> None:
    _, pool = fresh
    write_export(tmp_path / "six.ndjson", 6, interleave=True)
    summary = await import_file(pool, tmp_path / "six.ndjson", batch_size=20, policy=DEFAULT_POLICY)
    assert summary.rejected == 0
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT position, case_id, version FROM events ORDER BY position")
        # the feed reads every imported event, in position order
        assert [e.position for e in await store.read_all(conn, limit=len(rows) + 1)] == [
            r["position"] for r in rows
        ]
        with pytest.raises(asyncpg.PostgresError, match="append-only"):
            await conn.execute("UPDATE events SET type = type WHERE version = 1")
    by_transaction: dict[int, list[int]] = defaultdict(list)
    versions: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        by_transaction[row["position"] >> 20].append(row["position"] & ((1 << 20) - 1))
        versions[row["case_id"]].append(row["version"])
    # each batch's transaction numbers its events 1, 2, 3 ... under its own xid
    assert len(by_transaction) > 1
    assert all(offsets == list(range(1, len(offsets) + 1)) for offsets in by_transaction.values())
    assert all(v == list(range(1, len(v) + 1)) for v in versions.values())
    assert (await verify_all(pool)).ok


async def test_the_bulk_write_refuses_a_head_that_moved_and_a_stored_event_id(
    fresh: tuple[str, Pool],
) -> None:
    _, pool = fresh
    taken = uuid.uuid4()
    async with pool.acquire() as conn:
        async with conn.transaction():
            await copy_appends(conn, [_call("copy-1", 0, event_id=taken)], [])
        stored = await store.read_stream(conn, "copy-1")
        assert stored[0].data["note"] == "a \\ and a \t"  # COPY's escape character survives
        for stale, head_moved in (
            (_call("copy-1", 0), True),  # the case exists already
            (_call("copy-1", 3), True),  # ahead of the head: no version collides, the head check says no
            (_call("copy-2", 2), True),  # an unknown case at a version other than 0
            (_call("copy-3", 0, event_id=taken), False),  # the event_id is another case's
        ):
            with pytest.raises(LostRace) as race:
                async with conn.transaction():
                    await copy_appends(conn, [_call("copy-4", 0), stale], [])
            assert race.value.head_moved is head_moved
        assert await conn.fetchval("SELECT count(*) FROM events") == 1  # each batch wrote nothing
        assert await conn.fetchval("SELECT version FROM case_state WHERE case_id = 'copy-1'") == 1
