"""The closure-clock read model: one row per case for the case system's worklist.

Only the date-independent parts are stored (phase, clock start, eligible_on, and
the explanation: the rule and event that set the clock start, what holds it, or
why there is no clock); the status, days remaining and time left for an
evaluation date are derived from them with the clock's own `clock_on`, in SQL
for the worklist and in Python for a single case. So GET closure-clock reads one
row, never folds, and says exactly what a fold would.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import asyncpg

from app.domain.case import CaseState
from app.domain.clock import ClockFacts, clock_facts
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
    facts = clock_facts(state.clock, policy)
    return {
        "phase": facts.phase,
        "clock_start": facts.clock_start.isoformat() if facts.clock_start else None,
        "eligible_on": facts.eligible_on.isoformat() if facts.eligible_on else None,
        "explanation": {
            "rule": facts.clock_start_rule,
            "event_id": str(facts.clock_start_event_id) if facts.clock_start_event_id else None,
            "holds": list(facts.holds),
            "reason": facts.reason,
            # The latest business date folded: the row answers an `as_of` on or after it
            # (ClockFacts.answers_for); an earlier one needs a fold of the facts dated up to it.
            "latest_on": facts.latest_on.isoformat() if facts.latest_on else None,
        },
    }


STORED_COLUMNS = "phase, clock_start, eligible_on, explanation"


def stored_clock_row(record: asyncpg.Record) -> dict[str, Any]:
    """A stored closure_clock row (its STORED_COLUMNS) in `clock_row`'s form, to compare them."""
    return {
        "phase": record["phase"],
        "clock_start": record["clock_start"] and record["clock_start"].isoformat(),
        "eligible_on": record["eligible_on"] and record["eligible_on"].isoformat(),
        "explanation": record["explanation"],
    }


async def read_clock_facts(conn: asyncpg.Connection, case_id: str) -> tuple[ClockFacts, int] | None:
    """The stored clock of a case and the case's version, in one indexed read.

    None when the case has no row or its row predates the stored explanation
    (migration 0002); the caller then folds the case.
    """
    row = await conn.fetchrow(
        "SELECT s.version, c.phase, c.clock_start, c.eligible_on, c.explanation"
        " FROM case_state AS s JOIN closure_clock AS c ON c.case_id = s.case_id"
        " WHERE s.case_id = $1",
        case_id,
    )
    if row is None or row["explanation"] is None:
        return None
    explanation = row["explanation"]
    event_id = explanation["event_id"]
    facts = ClockFacts(
        phase=row["phase"],
        clock_start=row["clock_start"],
        clock_start_rule=explanation["rule"],
        clock_start_event_id=UUID(event_id) if event_id else None,
        eligible_on=row["eligible_on"],
        holds=tuple(explanation["holds"]),
        reason=explanation["reason"],
    )
    return facts, row["version"]


_SENTINEL = date(9999, 12, 31)
_ORDER = "worklist_day"  # COALESCE(eligible_on, 9999-12-31), a stored column with indexes


def _dated_status(status: str, as_of: str, shortest_wait: int) -> str | None:
    """SQL for a status that depends on the evaluation date; mirrors app.domain.clock.status_on.

    worklist_day is eligible_on here; bounding it lets the (phase, worklist_day)
    index skip cases instead of filtering them row by row. A waiting case's clock
    starts after `as_of`, so its eligible_on lies beyond `as_of` plus the shortest
    wait of any policy version: that bound skips every running case too.
    """
    in_ef = "phase = 'in_follow_up'"
    return {
        "waiting": f"{in_ef} AND worklist_day > {as_of}::date + {shortest_wait:d} AND clock_start > {as_of}",
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
    policy: PolicyTable,
) -> list[asyncpg.Record]:
    """Cases ordered by (eligible_on, case_id), keyset-paged; cases without a date come last."""
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
        conditions.append(f"({_ORDER}, case_id) > (${len(params) - 1}::text::date, ${len(params)}::text)")
    params.append(limit)
    sql = (
        "SELECT case_id, phase, clock_start, eligible_on FROM closure_clock"
        f" WHERE {' AND '.join(conditions)} ORDER BY {_ORDER}, case_id LIMIT ${len(params)}"
    )
    return await conn.fetch(sql, *params)
