"""Loading a case's folded state for reads: the snapshot, or a replay as known at a time."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from app import store
from app.domain.case import FOLD_VERSION, SNAPSHOT, CaseState, replay
from app.handler import to_fact
from app.problems import Problem


async def case_state(
    conn: asyncpg.Connection, case_id: str, *, known_at: datetime | None = None
) -> tuple[CaseState, int]:
    """(state, version); 404 `case_not_found` when the case has no events (by `known_at`)."""
    if known_at is None:
        row = await conn.fetchrow(
            "SELECT version, fold_version, state FROM case_state WHERE case_id = $1", case_id
        )
        if row is not None and row["fold_version"] == FOLD_VERSION:
            return SNAPSHOT.validate_python(row["state"]), row["version"]
    events = await store.read_stream(conn, case_id, known_at=known_at)
    if not events:
        when = f" as known at {known_at.isoformat()}" if known_at else ""
        raise Problem(404, "case_not_found", f"no case {case_id}{when}")
    return replay([to_fact(e) for e in events]), events[-1].version
