"""The verify queries spell `recorded_at` in PostgreSQL (`to_char`), and that text is hashed:
it must be, byte for byte, the `timestamp_text` the event was hashed with when appended,
whatever the session's time zone, for every time a row can hold. A time no Python datetime
can hold (before year 1, infinity) must not spell like one that can.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from uuid import uuid4
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from app.domain.hashing import timestamp_text
from app.ops.verify_ranges import HIGHEST, LOWEST
from app.store import merkle as store
from app.store.pool import Pool

EDGES = [
    datetime(2025, 1, 6, 14, 3, 7, tzinfo=UTC),  # microsecond 0
    datetime(2025, 1, 6, 14, 3, 7, 999999, tzinfo=UTC),
    datetime(2025, 1, 6, 14, 3, 7, 1, tzinfo=UTC),
    datetime(1, 1, 1, tzinfo=UTC),  # the first time a datetime holds
    datetime(5, 6, 7, 8, 9, 10, 11, tzinfo=UTC),  # a one-digit year
    datetime(999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),  # a three-digit year
    datetime(1000, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))),  # year 999 in UTC
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),  # the last
    datetime(2024, 2, 29, 23, 30, tzinfo=timezone(timedelta(hours=-12))),  # leap day, next day in UTC
    datetime(2025, 1, 1, 0, 15, tzinfo=timezone(timedelta(hours=14))),  # the year before in UTC
    datetime(2025, 3, 9, 2, 30, tzinfo=ZoneInfo("America/Chicago")),  # in a DST gap
    datetime(2025, 11, 2, 1, 30, fold=1, tzinfo=ZoneInfo("America/Chicago")),  # the repeated hour
    datetime(2025, 6, 1, 12, 0, 0, 500000, tzinfo=ZoneInfo("Pacific/Chatham")),  # +12:45
    datetime(1900, 2, 28, 23, 59, 59, tzinfo=ZoneInfo("Asia/Kolkata")),  # LMT-era offset
]
SESSION_ZONES = ["UTC", "Asia/Kolkata", "America/St_Johns", "Pacific/Kiritimati", "Europe/Dublin"]


def generated(count: int) -> list[datetime]:
    """Times across every year a row can hold, any microsecond, offsets to the minute."""
    rng = random.Random(20251206)
    start, span = (
        datetime(1, 1, 2, tzinfo=UTC),
        (datetime(9999, 12, 30, tzinfo=UTC) - datetime(1, 1, 2, tzinfo=UTC)),
    )
    out = []
    for _ in range(count):
        moment = start + timedelta(microseconds=rng.randrange(int(span.total_seconds() * 1e6)))
        offset = timezone(timedelta(minutes=rng.randrange(-14 * 60, 14 * 60 + 1)))
        out.append(moment.astimezone(offset))
    return out


async def _insert(conn: asyncpg.Connection, times: list[datetime]) -> None:
    """One well-formed row per time (the hash is not what is checked here)."""
    await conn.executemany(
        "INSERT INTO events (position, case_id, version, event_id, type, schema_version, data, metadata,"
        " recorded_at, hash) VALUES ($1, $2, 1, $3, 'CaseOpened', 1, '{}', '{}', $4, $5)",
        [(n + 1, f"case-{n}", uuid4(), at, "0" * 64) for n, at in enumerate(times)],
    )


async def _spelled(conn: asyncpg.Connection, zone: str, *, between: bool) -> list[str]:
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        await conn.execute(f"SET LOCAL TIME ZONE '{zone}'")
        batches = store.event_batches(conn, between=(LOWEST, HIGHEST) if between else None)
        return [row[9] async for batch in batches for row in batch]


@pytest.mark.parametrize("zone", SESSION_ZONES)
async def test_the_verify_queries_spell_every_time_as_timestamp_text(
    fresh: tuple[str, Pool], zone: str
) -> None:
    times = EDGES + generated(500)
    _, pool = fresh
    async with pool.acquire() as conn:
        await _insert(conn, times)
        expected = [timestamp_text(at) for at in times]
        assert await _spelled(conn, zone, between=False) == expected  # the one-process verifier's
        assert await _spelled(conn, zone, between=True) == expected  # a hash worker's


async def test_times_no_datetime_holds_spell_like_none_that_does(fresh: tuple[str, Pool]) -> None:
    """1 BC would spell as AD 1 by `to_char`, and year 10000 is past any datetime: a row moved
    there must not hash as it did. The infinities are what the driver writes for datetime.min
    and max (and reads back as them), so they spell as those."""
    _, pool = fresh
    moved = {2: "0001-01-01 00:00:00+00 BC", 3: "10000-01-01 00:00:00+00", 4: "-infinity", 5: "infinity"}
    async with pool.acquire() as conn:
        await _insert(conn, [datetime(2025, 1, 6, tzinfo=UTC)] * 5)
        await conn.execute("ALTER TABLE events DISABLE TRIGGER ALL")
        for position, moment in moved.items():
            await conn.execute(
                "UPDATE events SET recorded_at = $1::text::timestamptz WHERE position = $2", moment, position
            )
        await conn.execute("ALTER TABLE events ENABLE TRIGGER ALL")
        spelled = await _spelled(conn, "UTC", between=False)
    assert spelled[0] == "2025-01-06T00:00:00.000000Z"
    assert not spelled[1].endswith("Z")  # every timestamp_text does
    assert spelled[2].startswith("10000-")  # a year timestamp_text never writes
    assert spelled[3:] == [
        timestamp_text(datetime.min.replace(tzinfo=UTC)),
        timestamp_text(datetime.max.replace(tzinfo=UTC)),
    ]
