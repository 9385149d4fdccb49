"""The feed lag and projection lag that `GET /metrics` reports, in one query.

It lives here because every statement lives in the store; `app.observability`
sits below the store, so the web layer hands `read_lag` to
`Metrics.refresh_lag` rather than the metrics importing it.
"""

from __future__ import annotations

from typing import NamedTuple

from app.observability.metrics import RECENT_SECONDS
from app.store.pool import Pool
from app.store.queries import load_sql

RECENT_EVENTS_SCANNED = 10_000
TIMEOUT_SECONDS = 2


class Lag(NamedTuple):
    feed_seconds: float
    projection_streams: int


async def read_lag(pool: Pool) -> Lag:
    """The age of the oldest transaction holding back the feed, and the recent streams
    whose case_state lags their events (the newest RECENT_EVENTS_SCANNED events of the
    last RECENT_SECONDS)."""
    async with pool.acquire(timeout=TIMEOUT_SECONDS) as conn:
        row = await conn.fetchrow(
            load_sql("observability/lag"), RECENT_EVENTS_SCANNED, RECENT_SECONDS, timeout=TIMEOUT_SECONDS
        )
    assert row is not None
    return Lag(row["feed_lag"], row["projection_lag"])
