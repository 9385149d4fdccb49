"""The closure-clock read model: one row per case for the case system's worklist.

Only the date-independent parts are stored (phase, clock start, eligible_on);
the status for an evaluation date is derived with the clock's own `status_on`,
in SQL for the worklist and in Python for a single case.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg

from app.domain.case import CaseState
from app.domain.clock import clock_dates
from app.domain.policy import PolicyTable

WORKLIST_STATUSES = (
    "not_employed",
    "awaiting_m4",
    "waiting",
    "running",
    "eligible",
    "follow_up_cancelled",
    "closed",
)


def clock_row(state: CaseState, policy: PolicyTable) -> dict[str, Any] | None:
    if not state.opened:
        return None
    phase, clock_start, eligible_on = clock_dates(state.clock, policy)
    return {
        "phase": phase,
        "clock_start": clock_start.isoformat() if clock_start else None,
        "eligible_on": eligible_on.isoformat() if eligible_on else None,
    }


_SENTINEL = date(9999, 12, 31)
_ORDER = "worklist_day"  # COALESCE(eligible_on, 9999-12-31), a stored column with indexes


def _dated_status(status: str, as_of: str) -> str | None:
    """SQL for a status that depends on the evaluation date; mirrors app.domain.clock.status_on."""
    in_ef = "phase = 'in_follow_up'"
    # worklist_day is eligible_on here; bounding it lets the (phase, worklist_day)
    # index skip the eligible cases instead of filtering them row by row.
    return {
        "waiting": f"{in_ef} AND worklist_day > {as_of} AND clock_start > {as_of}",
        "running": f"{in_ef} AND worklist_day > {as_of} AND clock_start <= {as_of}",
        "eligible": f"{in_ef} AND eligible_on <= {as_of}",
    }.get(status)


def encode_cursor(eligible_on: date | None, case_id: str) -> str:
    return f"{(eligible_on or _SENTINEL).isoformat()}~{case_id}"


def decode_cursor(cursor: str) -> tuple[date, str]:
    day, _, case_id = cursor.partition("~")
    return date.fromisoformat(day), case_id


async def worklist(
    conn: asyncpg.Connection,
    *,
    as_of: date,
    status: str | None,
    eligible_by: date | None,
    cursor: str | None,
    limit: int,
) -> list[asyncpg.Record]:
    """Cases ordered by (eligible_on, case_id), keyset-paged; cases without a date come last."""
    params: list[Any] = []
    conditions = ["TRUE"]
    if status is not None:
        params.append(as_of)
        dated = _dated_status(status, "$1")
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
        conditions.append(
            f"({_ORDER}, case_id) > (${len(params) - 1}::text::date, ${len(params)}::text)"
        )
    params.append(limit)
    sql = (
        "SELECT case_id, phase, clock_start, eligible_on FROM closure_clock"
        f" WHERE {' AND '.join(conditions)} ORDER BY {_ORDER}, case_id LIMIT ${len(params)}"
    )
    return await conn.fetch(sql, *params)
