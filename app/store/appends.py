"""Writing appends: `caseledger_append` with named arguments, and what a lost race looks like.

PostgreSQL defends the head itself (migration 0003): the function refuses an
expected version that is not the stored head with SQLSTATE CL409, and the
unique keys on (`case_id`, `version`) and `event_id` catch a writer that read
the head just before another one committed. Both come out of here as `LostRace`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

import asyncpg

from app.domain.append_plan import AppendPlan
from app.store.queries import load_sql

HEAD_MOVED_SQLSTATE = "CL409"
_RACE_CONSTRAINTS = {"events_case_version_key", "case_state_pkey"}


class LostRace(Exception):
    """Another writer got there first: the head moved, or one of the event_ids is stored."""

    def __init__(self, *, head_moved: bool, current_version: int | None = None) -> None:
        super().__init__("the head moved" if head_moved else "an event_id is already stored")
        self.head_moved = head_moved
        self.current_version = current_version


class AppendCall(NamedTuple):
    """`caseledger_append`'s arguments by name, in the function's parameter order."""

    case_id: str
    expected_version: int
    event_ids: list[UUID]
    types: list[str]
    schema_versions: list[int]
    data: list[dict[str, Any]]
    metadata: list[dict[str, Any]]
    hashes: list[str]
    recorded_at: datetime
    fold_version: int
    state: str | None
    clock: dict[str, Any] | None
    ledger: list[dict[str, Any]] | None
    offset: int | None = None  # 0: the only append of its transaction

    @classmethod
    def of(cls, plan: AppendPlan, fold_version: int, *, alone: bool) -> AppendCall:
        events = plan.events
        return cls(
            plan.case_id,
            plan.expected_version,
            [e.event_id for e in events],
            [e.type for e in events],
            [e.schema_version for e in events],
            [e.data for e in events],
            [e.metadata for e in events],
            [e.hash for e in events],
            plan.recorded_at,
            fold_version,
            plan.state_json,
            plan.clock_changed,
            plan.ledger_changed,
            0 if alone else None,
        )


class NewEvent(NamedTuple):
    event_id: UUID
    type: str
    schema_version: int
    data: dict[str, Any]
    metadata: dict[str, Any]
    hash: str


def lost_race(exc: asyncpg.PostgresError) -> LostRace | None:
    """The `LostRace` an error of `caseledger_append` means, None for any other error."""
    if exc.sqlstate == HEAD_MOVED_SQLSTATE:
        detail = getattr(exc, "detail", None)
        return LostRace(head_moved=True, current_version=int(detail) if detail else None)
    if isinstance(exc, asyncpg.UniqueViolationError):
        return LostRace(head_moved=exc.constraint_name in _RACE_CONSTRAINTS)
    return None


async def write(conn: asyncpg.Connection, call: AppendCall) -> list[int]:
    """One append; returns each event's position. Raises `LostRace`."""
    try:
        base = await conn.fetchval(load_sql("append"), *call)
    except asyncpg.PostgresError as exc:
        raise (lost_race(exc) or exc) from exc
    return [base + i for i in range(1, len(call.event_ids) + 1)]


async def queue_behind_writers_of(conn: asyncpg.Connection, case_id: str) -> None:
    """Wait for this case's other writers (transaction-scoped): a hot case converges."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", case_id)


async def keep_refused_claim(conn: asyncpg.Connection, claim: tuple[Any, ...]) -> None:
    await conn.execute(load_sql("refused_claim"), *claim)


async def append(
    conn: asyncpg.Connection,
    *,
    case_id: str,
    expected_version: int,
    events: Sequence[NewEvent],
    recorded_at: datetime,
    fold_version: int,
    state: Any,
    clock_row: dict[str, Any] | None,
    ledger_rows: list[dict[str, Any]] | None,
) -> list[int]:
    """Append events whose hashes the caller computed (tests, fault drills); raises `LostRace`."""
    call = AppendCall(
        case_id,
        expected_version,
        [e.event_id for e in events],
        [e.type for e in events],
        [e.schema_version for e in events],
        [e.data for e in events],
        [e.metadata for e in events],
        [e.hash for e in events],
        recorded_at,
        fold_version,
        state,
        clock_row,
        ledger_rows,
        0,
    )
    return await write(conn, call)
