"""Deciding one batch of imported lines: three queries, then the API's own deciders in Python.

One query finds which event_ids are already stored (skipped, or an idempotency
conflict); `app.operations_heads` loads where each case stands (two more). Then
each case's lines meet `decide_case` / `decide_retraction` in file order, as
`AppendHandler` decides them, except that a refused line is left out and the
case's later lines are decided against the state without it. The result is one
`caseledger_append` argument tuple per case, for the caller to write.

A batch may be decided while the previous one is still being written (`ahead`:
that batch's decision): its cases then stand as that batch leaves them, and its
event_ids count as stored. Should that write fail, the caller decides again.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from app.domain.case import (
    FOLD_VERSION,
    CaseState,
    decide_case,
    decide_retraction,
    evolve_case,
    replay,
)
from app.domain.facts import Fact, Refusal
from app.domain.policy import PolicyTable
from app.events import EventRetracted
from app.ops.import_append import append_args, refused_claim
from app.ops.import_heads import CaseAtHand, load_cases
from app.ops.import_lines import Line, Reject
from app.service.state_cache import CachedCase, StateCache

_KNOWN = "SELECT event_id, case_id, type, data FROM events WHERE event_id = ANY($1::uuid[])"


@dataclass(slots=True)
class Decided:
    appends: list[tuple[Any, ...]] = field(default_factory=list)
    cached: list[tuple[str, CachedCase]] = field(default_factory=list)  # to keep once written
    refused_claims: list[tuple[Any, ...]] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    accepted: set[UUID] = field(default_factory=set)
    skipped: int = 0
    heads: dict[str, Pending] = field(default_factory=dict)  # each written case, once written

    def stored(self) -> dict[UUID, dict[str, Any]]:
        """The event_ids this decision writes, as `_KNOWN` would find them once written."""
        return {
            event_id: {"case_id": args[0], "type": type_, "data": data}
            for args in self.appends
            for event_id, type_, data in zip(args[2], args[3], args[5], strict=True)
        }


@dataclass(frozen=True, slots=True)
class Pending:
    """A case as a batch still being written leaves it: its head (what `case_state` will
    hold) and its folded state and read-model rows."""

    head: dict[str, Any]
    cached: CachedCase


class DecideLater(Exception):
    """The batch cannot be decided before the one in flight is written (a retraction on a
    case of that batch needs the case's stored history)."""


@dataclass(frozen=True, slots=True)
class Importing:
    """What stays the same for every batch of one import."""

    policy: PolicyTable
    actor: str
    cache: StateCache


async def decide_batch(
    conn: asyncpg.Connection,
    lines: list[Line],
    run: Importing,
    now: datetime,
    ahead: Decided | None = None,
) -> Decided:
    """Decide `lines`; with `ahead` (the batch being written), as if it were written.

    Raises DecideLater when that cannot be done before `ahead` is written.
    """
    decided = Decided()
    known: dict[UUID, Any] = {
        r["event_id"]: r for r in await conn.fetch(_KNOWN, [ln.item.event_id for ln in lines])
    }
    pending = ahead.heads if ahead is not None else {}
    if ahead is not None:
        known.update(ahead.stored())
    by_case = _new_lines_by_case(lines, known, decided)
    retractions = {
        case_id: any(isinstance(ln.item.event, EventRetracted) for ln in case_lines)
        for case_id, case_lines in by_case.items()
    }
    if any(retractions[c] for c in pending.keys() & retractions.keys()):
        raise DecideLater
    stored = {c: r for c, r in retractions.items() if c not in pending}
    loaded = {case.case_id: case for case in await load_cases(conn, stored, now, run.cache)}
    cases = [loaded[c] if c in loaded else _pending_case(c, pending[c], now) for c in by_case]
    for index, case in enumerate(cases):
        before = case.state
        for line in by_case[case.case_id]:
            _decide_line(case, line, run, decided)
        if case.accepted:
            _add_append(case, before, run.policy, decided)
        if index % 50 == 49:
            await asyncio.sleep(0)  # lets the batch in flight stream to the server
    return decided


def _pending_case(case_id: str, pending: Pending, now: datetime) -> CaseAtHand:
    cached = pending.cached
    at = max(now, pending.head["last_recorded_at"])
    return CaseAtHand(case_id, pending.head, cached.state, None, at, (cached.clock_row, cached.ledger_rows))


def _same(case_id: str, type_: str, data: Any, line: Line) -> bool:
    """The handler's idempotency test: same case, type and data (metadata may differ)."""
    return case_id == line.case_id and type_ == line.item.event.TYPE and data == line.item.data


def _conflict(line: Line, where: str) -> Reject:
    return Reject(
        line.number,
        line.case_id,
        str(line.item.event_id),
        "idempotency_conflict",
        None,
        f"event_id {line.item.event_id} was already {where} with other content",
    )


def _new_lines_by_case(
    lines: list[Line], known: dict[UUID, asyncpg.Record], decided: Decided
) -> dict[str, list[Line]]:
    """Stored ids are skipped or conflict; within the batch the first line owns an id."""
    by_case: dict[str, list[Line]] = defaultdict(list)
    owners: dict[UUID, Line] = {}
    for line in lines:
        event_id = line.item.event_id
        if (stored := known.get(event_id)) is not None:
            if _same(stored["case_id"], stored["type"], stored["data"], line):
                decided.skipped += 1
            else:
                decided.rejects.append(_conflict(line, "recorded"))
            continue
        first = owners.setdefault(event_id, line)
        if first is line or _same(first.case_id, first.item.event.TYPE, first.item.data, line):
            by_case[line.case_id].append(line)
        else:
            decided.rejects.append(_conflict(line, f"used on line {first.number}"))
    return by_case


def _decide_line(case: CaseAtHand, line: Line, run: Importing, out: Decided) -> None:
    item = line.item
    if item.event_id in out.accepted:  # a repeat of a line accepted earlier in this batch
        out.skipped += 1
        return
    try:
        refusal = _refusal(case, line, run.policy)
        if refusal is None:
            _accept(case, line)
    except Exception as exc:  # a bug in the rules must cost one line, not the whole import
        refusal = _server_error(exc)
    if refusal is None:
        out.accepted.add(item.event_id)
        return
    out.rejects.append(_reject(line, refusal))
    if item.event.TYPE == "PBAMilestoneReached" and refusal.code == "rule_violation":
        out.refused_claims.append(refused_claim(case, line, refusal, run.actor))


def _refusal(case: CaseAtHand, line: Line, policy: PolicyTable) -> Refusal | None:
    if isinstance(line.item.event, EventRetracted):
        return decide_retraction(case.history or [], line.item.event)
    return decide_case(case.state, line.item.event, policy)


def _accept(case: CaseAtHand, line: Line) -> None:
    """Fold the accepted line into the case (the case is left as it was if folding fails)."""
    item = line.item
    fact = Fact(item.event_id, case.version + len(case.accepted) + 1, case.at, item.event)
    if isinstance(item.event, EventRetracted):
        history = [*(case.history or []), fact]
        case.state, case.history = replay(history), history
    else:
        case.state = evolve_case(case.state, fact)
        if case.history is not None:
            case.history.append(fact)
    case.accepted.append(line)


def _head_after(case: CaseAtHand, args: tuple[Any, ...]) -> dict[str, Any]:
    """The `case_state` head `caseledger_append` leaves with these arguments."""
    version, snapshot = args[1] + len(args[2]), args[10] is not None
    head = case.head
    return {
        "version": version,
        "last_hash": args[7][-1],
        "last_recorded_at": args[8],
        "state_version": version if snapshot or head is None else head["state_version"],
        "fold_version": FOLD_VERSION if snapshot or head is None else head["fold_version"],
    }


def _server_error(exc: Exception) -> Refusal:
    return Refusal(
        "server_error",
        f"the rules failed on this event ({type(exc).__name__}: {exc}); the API answers 500 here",
        code="server_error",
    )


def _reject(line: Line, refusal: Refusal) -> Reject:
    return Reject(
        line.number,
        line.case_id,
        str(line.item.event_id),
        refusal.code,
        refusal.rule,
        refusal.detail,
    )


def _add_append(case: CaseAtHand, before: CaseState, policy: PolicyTable, out: Decided) -> None:
    try:
        args, cached = append_args(case, before, policy)
        out.appends.append(args)
        out.cached.append((case.case_id, cached))
        out.heads[case.case_id] = Pending(_head_after(case, args), cached)
    except Exception as exc:  # the read models cannot be computed: the case waits, others go on
        for line in case.accepted:
            out.accepted.discard(line.item.event_id)
            out.rejects.append(_reject(line, _server_error(exc)))
