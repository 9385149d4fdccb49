"""Where each case of an import batch stands: its head and the state to decide against.

Two queries for the whole batch: the heads (`case_state`), then in one LATERAL
query the events each head's snapshot does not cover yet (snapshots are written
every few versions, so they may lag), or the whole stream of a case whose batch
holds a retraction (`decide_retraction` needs history) or whose snapshot is of
another fold version. This mirrors `app.reads.fold_case`, batched. A case the
import wrote in an earlier batch is usually in its cache (`StateCache`, the
handler's), at the version the head names: then nothing more is read or folded.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from app.domain.append_plan import Head
from app.domain.case import FOLD_VERSION, SNAPSHOT, CaseState, evolve_case, replay
from app.domain.facts import Fact
from app.events import EventRetracted
from app.ops.rebuild_facts import stored_fact
from app.service.reads import to_fact
from app.service.state_cache import StateCache
from app.store.bulk import import_heads, import_tails
from app.store.streams import read_stream


@dataclass(slots=True)
class CaseAtHand:
    """One case of the batch: its head, the state to decide against, and what it accepted."""

    case_id: str
    head: Head  # as case_state holds it, or as a batch being written leaves it
    state: CaseState
    history: list[Fact] | None  # the whole stream, when a retraction needs it
    at: datetime  # recorded_at of this batch's events: now, never before the case's last event
    rows_before: tuple[dict[str, Any] | None, list[dict[str, Any]]] | None = None  # if cached

    @property
    def version(self) -> int:
        return self.head.version


async def load_cases(
    conn: asyncpg.Connection, wanted: dict[str, bool], now: datetime, cache: StateCache
) -> list[CaseAtHand]:
    """`wanted` maps each case_id to whether its batch holds a retraction."""
    cached = {c: cache.version_of(c) for c in wanted}
    heads = {r["case_id"]: r for r in await import_heads(conn, cached)}
    needs_history = {
        c
        for c, retraction in wanted.items()
        if retraction or (c in heads and heads[c]["fold_version"] != FOLD_VERSION)
    }
    hits = {c for c, h in heads.items() if h["state"] is None and c not in needs_history}
    after = {
        c: 0 if c in needs_history else h["state_version"]
        for c, h in heads.items()
        if c not in hits and (c in needs_history or h["state_version"] < h["version"])
    }
    tails: dict[str, list[Fact]] = defaultdict(list)
    if after:
        for row in await import_tails(conn, after):
            tails[row["case_id"]].append(_trusted(row))
    cases = []
    for case_id in wanted:
        row = heads.get(case_id)
        head = _head(row)
        at = max(now, head.last_recorded_at) if head.last_recorded_at else now
        if case_id in needs_history:
            history = tails.get(case_id, [])
            cases.append(CaseAtHand(case_id, head, replay(history), history, at))
        elif case_id in hits:
            hit = cache.get(case_id)
            assert hit is not None
            rows = (hit.clock_row, hit.ledger_rows)
            cases.append(CaseAtHand(case_id, head, hit.state, None, at, rows))
        else:
            state = await _snapshot_and_tail(conn, case_id, row, tails.get(case_id, []))
            cases.append(CaseAtHand(case_id, head, state, None, at))
    return cases


def _trusted(row: asyncpg.Record) -> Fact:
    """A stored event of the case's tail, its payload trusted as the store wrote it."""
    return stored_fact(
        row["event_id"], row["version"], row["recorded_at"], row["type"], row["schema_version"], row["data"]
    )


def _head(row: asyncpg.Record | None) -> Head:
    if row is None:
        return Head()
    return Head(
        row["version"], row["last_hash"], row["last_recorded_at"], row["state_version"], row["fold_version"]
    )


async def _snapshot_and_tail(
    conn: asyncpg.Connection, case_id: str, head: asyncpg.Record | None, tail: list[Fact]
) -> CaseState:
    if head is None:
        return CaseState()
    if any(isinstance(f.data, EventRetracted) for f in tail):  # never written so; be safe
        return replay([to_fact(e) for e in await read_stream(conn, case_id)])
    state = SNAPSHOT.validate_python(head["state"])
    for fact in tail:
        state = evolve_case(state, fact)
    return state
