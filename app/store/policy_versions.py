"""The adopted policy versions (table `policy_versions`, migration 0007) and the reads a
policy adoption or preview walks: SQL only, the rules live in `app.domain`."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg

from app.store.queries import load_sql

FAR_FUTURE = date(9999, 12, 31)


async def read_versions(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Every adopted version, in adoption order."""
    return await conn.fetch(load_sql("policy/versions"))


async def head(conn: asyncpg.Connection) -> tuple[int, str | None]:
    """(number, hash) of the last adopted version; (0, None) before the first."""
    row = await conn.fetchrow(load_sql("policy/head"))
    return (row["number"], row["hash"]) if row is not None else (0, None)


async def take_turn(conn: asyncpg.Connection) -> None:
    """Within a transaction: wait for any other adoption to finish first."""
    await conn.execute(load_sql("policy/lock"))


async def insert_version(conn: asyncpg.Connection, row: dict[str, Any]) -> None:
    await conn.execute(
        load_sql("policy/insert"),
        row["number"],
        row["effective_from"],
        row["closure_wait_days"],
        row["milestone_rates"],
        row["pba_cap_per_consumer"],
        row["adopted_at"],
        row["adopted_by"],
        row["previous_hash"],
        row["hash"],
        row["retention_years"],
    )


async def next_cases(conn: asyncpg.Connection, after: str, limit: int) -> list[str]:
    """Up to `limit` case ids after `after`, in order: one chunk of a walk."""
    return [r["case_id"] for r in await conn.fetch(load_sql("policy/case_range"), after, limit)]


async def clock_rows_started_in(
    conn: asyncpg.Connection, after: str, through: str, window: tuple[date, date]
) -> list[asyncpg.Record]:
    """Closure-clock rows of cases in (after, through] whose clock start is in the window."""
    return await conn.fetch(load_sql("policy/clock_rows"), after, through, *window)


async def ledger_rows_priced_in(
    conn: asyncpg.Connection, after: str, through: str, window: tuple[date, date]
) -> list[asyncpg.Record]:
    """Ledger rows of cases in (after, through] with a milestone reached in the window."""
    start, end = window
    return await conn.fetch(
        load_sql("policy/ledger_rows"), after, through, start.isoformat(), end.isoformat()
    )


async def refresh_case_models(
    conn: asyncpg.Connection,
    case_id: str,
    version: int,
    clock: dict[str, Any] | None,
    ledger: list[dict[str, Any]],
) -> bool:
    """Write a case's refolded read-model rows if it is still at `version`; whether it was."""
    return bool(await conn.fetchval(load_sql("policy/refresh_case"), case_id, clock, ledger, version))
