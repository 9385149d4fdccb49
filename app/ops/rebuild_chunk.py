"""Writing one chunk of rebuilt cases, and telling which of them had drifted from the log.

"Did it differ?" is answered without a second copy of the row mapping: the
closure-clock and ledger rows are written through the same SQL functions the
append path uses, and a digest of each case's rows taken before and after the
write (same transaction) says whether anything changed. The snapshot is
compared by meaning instead, and rewritten only when wrong: a live snapshot may
lag its case by a few versions by design (state_version), so it is folded
forward and compared with the replay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, Protocol

import asyncpg
import orjson
from pydantic import ValidationError

from app.domain.case import FOLD_VERSION, SNAPSHOT, CaseState, evolve_case
from app.domain.facts import Fact
from app.events import EventRetracted
from app.store.bulk import compress_with_lz4
from app.store.queries import load_sql

MODELS = ("case_state", "closure_clock", "ledger_pba")


class LastEvent(Protocol):
    """What the rows need of a case's last event (a `StoredEvent` has it, and so has `CaseEnd`)."""

    @property
    def case_id(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def hash(self) -> str: ...
    @property
    def recorded_at(self) -> datetime: ...


class CaseEnd(NamedTuple):
    case_id: str
    version: int
    hash: str
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class Rebuilt:
    """One case replayed from its whole stream, with the rows its read models should hold.

    Only the last SNAPSHOT_EVERY facts are kept, to fold a live snapshot forward: the
    writers never let one lag further behind its case (memory stays flat per case).
    """

    last: LastEvent
    tail: tuple[Fact, ...]
    state: CaseState
    state_json: str
    clock: dict[str, Any] | None
    ledger: list[dict[str, Any]]

    @property
    def case_id(self) -> str:
        return self.last.case_id

    def state_args(self) -> tuple[Any, ...]:
        return (
            self.last.case_id,
            self.last.version,
            self.last.hash,
            self.last.recorded_at,
            FOLD_VERSION,
            self.state_json,
        )


@dataclass(frozen=True, slots=True)
class ChunkResult:
    differed: dict[str, list[str]]  # case_id -> the read models whose rows had drifted
    moved_on: int


async def write_chunk(conn: asyncpg.Connection, chunk: list[Rebuilt]) -> ChunkResult:
    """Overwrite the chunk's rows in one transaction; cases appended to meanwhile are left alone.

    A snapshot that is right is kept (it is large, and a lagging one is right by design).
    """
    async with conn.transaction():
        case_ids = [r.case_id for r in chunk]
        await conn.execute(load_sql("rebuild_lock"), case_ids)
        versions = [r.last.version for r in chunk]
        moved_on = {r["case_id"] for r in await conn.fetch(load_sql("rebuild_moved_on"), case_ids, versions)}
        current = [r for r in chunk if r.case_id not in moved_on]
        ids = [r.case_id for r in current]
        rows = await conn.fetch(load_sql("rebuild_before"), ids, FOLD_VERSION)
        before = {row["case_id"]: row for row in rows}
        wrong_state = [r for r in current if not _case_state_matches(r, before[r.case_id])]
        if wrong_state:
            await compress_with_lz4(conn)
            await conn.executemany(load_sql("rebuild_write_state"), [r.state_args() for r in wrong_state])
        await conn.execute(load_sql("rebuild_write_models"), *_model_columns(current))
        after = {row["case_id"]: row for row in await conn.fetch(load_sql("rebuild_after"), ids)}
    differed: dict[str, list[str]] = {r.case_id: ["case_state"] for r in wrong_state}
    for r in current:
        models = [m for m in MODELS[1:] if before[r.case_id][m] != after[r.case_id][m]]
        if models:
            differed.setdefault(r.case_id, []).extend(models)
    return ChunkResult(differed, len(moved_on))


def _model_columns(chunk: list[Rebuilt]) -> tuple[list[str], list[str | None], list[str]]:
    """The chunk's read-model rows as `rebuild_write_models.sql` takes them: JSON text."""
    dumps = orjson.dumps
    return (
        [r.case_id for r in chunk],
        [None if r.clock is None else dumps(r.clock).decode() for r in chunk],
        [dumps(r.ledger).decode() for r in chunk],
    )


def _case_state_matches(rebuilt: Rebuilt, live: asyncpg.Record) -> bool:
    last = rebuilt.last
    if (live["version"], live["last_hash"], live["last_recorded_at"]) != (
        last.version,
        last.hash,
        last.recorded_at,
    ):
        return False
    if live["fold_version"] != FOLD_VERSION:
        return True  # another fold's snapshot is not wrong: readers replay instead of using it
    if live["state"] is None:
        return False
    stored = orjson.loads(live["state"])
    if live["state_version"] == last.version:  # equal as JSON values, as jsonb compares them
        return bool(stored == orjson.loads(rebuilt.state_json))
    try:
        snapshot = SNAPSHOT.validate_python(stored)
    except (ValidationError, TypeError, ValueError):
        return False
    return _snapshot_matches(snapshot, live["state_version"], rebuilt)


def _snapshot_matches(snapshot: CaseState, state_version: int, rebuilt: Rebuilt) -> bool:
    """Whether the snapshot is the fold of versions 1..state_version, as readers assume.

    A snapshot further behind than the kept tail, or with a retraction after it, is not
    one the writers leave (they snapshot every SNAPSHOT_EVERY versions and at every
    retraction): it is rewritten.
    """
    lag = rebuilt.last.version - state_version
    if not 0 < lag <= len(rebuilt.tail):
        return False
    tail = rebuilt.tail[len(rebuilt.tail) - lag :]
    if any(isinstance(f.data, EventRetracted) for f in tail):
        return False
    for fact in tail:
        snapshot = evolve_case(snapshot, fact)
    return snapshot == rebuilt.state
