"""N stored events with valid hash chains, COPYed straight into `events` (for bench.checkpoints).

Case histories come from `bench.gen.long_case` (30 events per case, realistic payloads);
they are interleaved across cases in feed order, as real appends would be, and their
positions lie far below any transaction id, so the whole log is the stable prefix.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import orjson

from app.domain.hashing import GENESIS, canonical_json, event_hash
from app.store.db import asyncpg_dsn
from bench import gen

EVENTS_PER_CASE = 30
INTERLEAVE = 200  # cases written side by side
COLUMNS = (
    "position",
    "case_id",
    "version",
    "event_id",
    "type",
    "schema_version",
    "data",
    "metadata",
    "recorded_at",
    "hash",
)


def _case_rows(rng: random.Random, case_id: str, first_at: datetime) -> list[list[Any]]:
    rows, previous = [], GENESIS
    for version, (event_type, data) in enumerate(gen.long_case(rng, case_id, EVENTS_PER_CASE), start=1):
        envelope = {
            "case_id": case_id,
            "version": version,
            "event_id": gen._uuid(rng),
            "type": event_type,
            "schema_version": 1,
            "data": canonical_json(data),
            "metadata": {"actor": "case_system:bench", "source": "bench"},
            "recorded_at": first_at + timedelta(seconds=version),
        }
        previous = event_hash(previous, **envelope)
        rows.append([0, *envelope.values(), previous])
    return rows


def event_rows(count: int, seed: int = 12) -> Iterator[list[tuple[Any, ...]]]:
    """Batches of rows in feed order: INTERLEAVE cases at a time, their events round-robin."""
    rng, position, case_number = random.Random(seed), 0, 0
    base = datetime(2025, 1, 1, tzinfo=UTC)
    while position < count:
        group = []
        for _ in range(INTERLEAVE):
            group.append(_case_rows(rng, f"bench-{case_number:07d}", base + timedelta(minutes=case_number)))
            case_number += 1
        batch = []
        for version in range(EVENTS_PER_CASE):
            for rows in group:
                if version < len(rows) and position < count:
                    position += 1
                    rows[version][0] = position
                    batch.append(tuple(rows[version]))
        yield batch


async def load_events(url: str, count: int) -> None:
    """COPY (binary) on a connection of its own: jsonb goes as its binary form, 0x01 || text."""
    conn = await asyncpg.connect(asyncpg_dsn(url)[0])
    try:
        await conn.set_type_codec(
            "jsonb",
            encoder=lambda value: b"\x01" + orjson.dumps(value),
            decoder=lambda raw: orjson.loads(raw[1:]),
            schema="pg_catalog",
            format="binary",
        )
        for batch in event_rows(count):
            await conn.copy_records_to_table("events", records=batch, columns=COLUMNS)
        await conn.execute("ANALYZE events")
    finally:
        await conn.close()
