"""The reads of the closure-clock and payment-ledger read models.

The projections (`app.projections`) say which rows a case's state becomes; this
module reads those rows back, so the projections stay pure (state -> rows) and
every statement lives under `sql/read_models/`.
"""

from __future__ import annotations

from datetime import date
from typing import Any, NamedTuple
from uuid import UUID

import asyncpg

from app.domain.clock import ClockFacts
from app.domain.policy import PolicyTable
from app.projections.closure_clock import decode_cursor
from app.store.queries import load_sql

_DATED_STATUSES = ("waiting", "running", "eligible")


async def case_head(conn: asyncpg.Connection, case_id: str, *, cached_version: int) -> asyncpg.Record | None:
    """A case's version, state_version, fold_version and stored state (None in `state`
    when the case is still at `cached_version`, so a cached state is not sent again)."""
    return await conn.fetchrow(load_sql("read_models/case_head"), case_id, cached_version)


async def case_opened(conn: asyncpg.Connection, case_id: str) -> bool:
    """Whether the case has a head, that is at least one event."""
    return bool(await conn.fetchval(load_sql("read_models/case_opened"), case_id))


async def read_clock(conn: asyncpg.Connection, case_id: str, as_of: date) -> StoredClock | None:
    """The stored clock of a case (None in `facts` when its row predates the stored
    explanation, migration 0002) and the case's version, in one indexed read; None without
    a row. What re-folds the clock (see `StoredClock`) comes along only when `as_of` is
    before the case's latest business date, when the stored clock cannot answer."""
    row = await conn.fetchrow(load_sql("read_models/clock_read"), case_id, as_of)
    if row is None:
        return None
    return StoredClock(
        _clock_facts(row),
        row["version"],
        row["state_version"],
        row["fold_version"],
        row["state"],
        row["clock_log"],
    )


class StoredClock(NamedTuple):
    """A case's stored clock and its version; when the read asked for an earlier date than
    the stored clock answers, what re-folds it: the clock's log of a snapshot at the
    version (`clock_log`), or an older snapshot (`snapshot`, the fold of 1..state_version)."""

    facts: ClockFacts | None
    version: int
    state_version: int
    fold_version: int | None
    snapshot: Any
    clock_log: Any = None


def _clock_facts(row: asyncpg.Record) -> ClockFacts | None:
    explanation = row["explanation"]
    if explanation is None:
        return None
    event_id = explanation["event_id"]
    return ClockFacts(
        phase=row["phase"],
        clock_start=row["clock_start"],
        clock_start_rule=explanation["rule"],
        clock_start_event_id=UUID(event_id) if event_id else None,
        eligible_on=row["eligible_on"],
        holds=tuple(explanation["holds"]),
        reason=explanation["reason"],
        # The case's latest business date: the row answers any as_of on or after it
        # (an earlier as_of is folded); rows written before it was stored have none.
        latest_on=date.fromisoformat(explanation["latest_on"]) if explanation.get("latest_on") else None,
    )


def _dated_status(status: str, as_of: str, shortest_wait: int) -> str | None:
    """The condition of a status that depends on the evaluation date; mirrors app.domain.clock.status_on.

    Assembled from `sql/read_models/worklist/<status>.sql` because the worklist's
    WHERE clause is built from the filters a request names. worklist_day is
    eligible_on here; bounding it lets the (phase, worklist_day) index skip cases
    instead of filtering them row by row.
    """
    if status not in _DATED_STATUSES:
        return None
    fragment = load_sql(f"read_models/worklist/{status}")
    return fragment.format(as_of=as_of, shortest_wait=f"{shortest_wait:d}")


async def worklist(
    conn: asyncpg.Connection,
    *,
    as_of: date,
    status: str | None,
    eligible_by: date | None,
    cursor: str | None,
    limit: int,
    policy: PolicyTable,
) -> list[asyncpg.Record]:
    """Cases ordered by (eligible_on, case_id), keyset-paged; cases without a date come last.

    The WHERE clause is assembled (only placeholders and fixed fragments, never a
    value) because each filter is optional.
    """
    params: list[Any] = []
    conditions = ["TRUE"]
    if status is not None:
        params.append(as_of)
        shortest_wait = min(v.closure_wait_days for v in policy.versions)
        dated = _dated_status(status, "$1", shortest_wait)
        if dated is None:
            params[0] = status
            dated = "phase = $1"
        conditions.append(dated)
    if eligible_by is not None:
        params.append(eligible_by)
        conditions.append(f"eligible_on <= ${len(params)}")
    if cursor:
        day, case_id = decode_cursor(cursor)
        # The day goes as text: asyncpg sends date.max (the sentinel of cases without an
        # eligible date) as 'infinity', which sorts after 9999-12-31 and ended the walk early.
        params.extend((day.isoformat(), case_id))
        conditions.append(f"(worklist_day, case_id) > (${len(params) - 1}::text::date, ${len(params)}::text)")
    params.append(limit)
    sql = load_sql("read_models/worklist/page").format(
        where=" AND ".join(conditions), limit=f"${len(params)}"
    )
    return await conn.fetch(sql, *params)


async def case_pbas(
    conn: asyncpg.Connection, case_id: str, *, provider_id: str | None = None
) -> list[dict[str, Any]]:
    """The ledger detail of each PBA of a case, optionally of one provider."""
    rows = await conn.fetch(load_sql("read_models/case_pbas"), case_id, provider_id)
    return [r["detail"] for r in rows]


async def refused_claims(
    conn: asyncpg.Connection,
    *,
    case_id: str | None = None,
    provider_id: str | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """Refused claims from their own durable log, since a refused claim is not an event."""
    rows = await conn.fetch(load_sql("read_models/refused_claims"), case_id, provider_id, limit)
    return [{**dict(r), "refused_at": r["refused_at"].isoformat()} for r in rows]


async def provider_page(
    conn: asyncpg.Connection, provider_id: str, *, after: tuple[str, str] | None, limit: int
) -> list[dict[str, Any]]:
    """One keyset page of a provider's PBAs, after the (case_id, pba_id) given."""
    case_after, pba_after = after if after else ("", "")
    sql = load_sql("read_models/provider_page")
    rows = await conn.fetch(sql, provider_id, case_after, pba_after, limit)
    return [{"case_id": r["case_id"], **r["detail"]} for r in rows]


async def provider_totals(conn: asyncpg.Connection, provider_id: str) -> dict[str, Any]:
    """A provider's counts and money sums over its PBAs, money as two-decimal strings."""
    row = await conn.fetchrow(load_sql("read_models/provider_totals"), provider_id)
    assert row is not None
    money = ("earned", "authorized", "paid", "outstanding")
    return {k: (f"{row[k]:.2f}" if k in money else row[k]) for k in row.keys()}  # noqa: SIM118 (asyncpg Record)
