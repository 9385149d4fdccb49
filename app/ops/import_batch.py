"""Deciding one batch of imported lines: three queries, then the API's own deciders in Python.

One query finds which event_ids are already stored (skipped, or an idempotency
conflict); `app.operations_heads` loads where each case stands (two more). Then
each case's lines go through the service's batch loop (`app.domain.batch`) in
file order, except that a line the rules refuse is kept as the fact it is, its
refusal written into its metadata as a finding (`app.domain.findings`, issue 15),
and a line the fold cannot take is left out, the case's later lines decided
against the state without it; the service's `plan_append` plans
what each case writes. The result is one `AppendCall` per case, for the caller
to write.

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

from app.domain.append_plan import Projector
from app.domain.batch import BatchOutcome, server_error
from app.domain.batch import decide_batch as decide_lines
from app.domain.facts import Refusal
from app.domain.findings import with_finding
from app.domain.policy import PolicyTable
from app.events import EventRetracted
from app.ops.import_append import Pending, case_append, refused_claim
from app.ops.import_heads import CaseAtHand, load_cases
from app.ops.import_lines import Line, Reject
from app.ops.import_sealing import DESTROYED, blinded, keys_for, opened_known, sealed_outcome
from app.projections.projector import projector
from app.service.case_keys import CaseKeys
from app.service.state_cache import CachedCase, StateCache
from app.store.appends import AppendCall
from app.store.bulk import known_events


@dataclass(slots=True)
class Decided:
    appends: list[AppendCall] = field(default_factory=list)
    cached: list[tuple[str, CachedCase]] = field(default_factory=list)  # to keep once written
    refused_claims: list[tuple[Any, ...]] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    accepted: set[UUID] = field(default_factory=set)
    skipped: int = 0
    heads: dict[str, Pending] = field(default_factory=dict)  # each written case, once written

    def stored(self, wanted: set[UUID]) -> dict[UUID, dict[str, Any]]:
        """Those of `wanted` this decision writes, as `known_event_ids.sql` finds them once
        written (a later batch asks only for its own event_ids: usually none)."""
        return {
            event_id: {"case_id": call.case_id, "type": type_, "data": data}
            for call in self.appends
            for event_id, type_, data in zip(call.event_ids, call.types, call.data, strict=True)
            if event_id in wanted
        }


class DecideLater(Exception):
    """The batch cannot be decided before the one in flight is written (a retraction on a
    case of that batch needs the case's stored history)."""


@dataclass(frozen=True, slots=True)
class Importing:
    """What stays the same for every batch of one import."""

    policy: PolicyTable
    actor: str
    cache: StateCache
    keys: CaseKeys | None = None  # seals personal values as the service does (docs/privacy.md)

    @property
    def project(self) -> Projector:
        return projector(self.policy)


async def decide_batch(
    conn: asyncpg.Connection,
    lines: list[Line],
    run: Importing,
    now: datetime,
    ahead: Decided | None = None,
    known: dict[UUID, Any] | None = None,
) -> Decided:
    """Decide `lines`; with `ahead` (the batch being written), as if it were written.

    `known`: the stored copies of the lines' event_ids, when the caller has just read them
    (else read here). Raises DecideLater when that cannot be done before `ahead` is written.
    """
    decided = Decided()
    ids = [ln.item.event_id for ln in lines]
    if known is None:
        known = {r["event_id"]: r for r in await known_events(conn, ids)}
    else:
        known = {i: known[i] for i in ids if i in known}
    pending = ahead.heads if ahead is not None else {}
    if ahead is not None:
        known.update(ahead.stored(set(ids)))
    if run.keys is not None:  # stored copies compare on their opened values
        known = await opened_known(conn, run.keys, known)
        lines = blinded(lines)
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
    outcomes = []
    for index, case in enumerate(cases):
        outcomes.append((case, _decide_case(case, by_case[case.case_id], run, decided)))
        if index % 50 == 49:
            await asyncio.sleep(0)  # lets the batch in flight stream to the server
    await _plan_all(conn, outcomes, by_case, run, decided)
    return decided


async def _plan_all(
    conn: asyncpg.Connection,
    outcomes: list[tuple[CaseAtHand, BatchOutcome]],
    by_case: dict[str, list[Line]],
    run: Importing,
    decided: Decided,
) -> None:
    """Each case's append planned, its personal values sealed first (keys: one query)."""
    project, keys = run.project, {}
    if run.keys is not None:
        keys = await keys_for(conn, run.keys, [(c.case_id, o) for c, o in outcomes if o.accepted])
    for case, outcome in outcomes:
        if not outcome.accepted:
            continue
        if run.keys is not None:
            try:
                outcome = sealed_outcome(case.case_id, outcome, keys.get(case.case_id))
            except KeyError:
                _refuse_accepted(by_case[case.case_id], outcome, DESTROYED, decided)
                continue
        _add_append(case, by_case[case.case_id], outcome, project, decided)


def _pending_case(case_id: str, pending: Pending, now: datetime) -> CaseAtHand:
    cached = pending.cached
    at = max(now, pending.head.last_recorded_at or now)
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


def _decide_case(case: CaseAtHand, lines: list[Line], run: Importing, out: Decided) -> BatchOutcome:
    """The service's batch loop over the case's lines, going on past a refused one."""
    outcome = decide_lines(
        case.state,
        case.history,
        [line.item for line in lines],
        run.policy,
        version=case.version,
        at=case.at,
        keep_going=True,
        record=with_finding,  # history is imported as it happened (issue 15)
    )
    out.skipped += outcome.repeats
    out.accepted.update(item.event_id for item in outcome.accepted)
    for refused in outcome.refused:
        line = lines[refused.index]
        out.rejects.append(_reject(line, refused.refusal))
        if line.item.event.TYPE == "PBAMilestoneReached" and refused.refusal.code == "rule_violation":
            out.refused_claims.append(refused_claim(case.case_id, refused, run.actor))
    return outcome


def _reject(line: Line, refusal: Refusal) -> Reject:
    return Reject(
        line.number,
        line.case_id,
        str(line.item.event_id),
        refusal.code,
        refusal.rule,
        refusal.detail,
    )


def _add_append(
    case: CaseAtHand, lines: list[Line], outcome: BatchOutcome, project: Projector, out: Decided
) -> None:
    try:
        planned = case_append(case, case.state, outcome, project)
    except Exception as exc:  # the read models cannot be computed: the case waits, others go on
        _refuse_accepted(lines, outcome, server_error(exc), out)
        return
    out.appends.append(planned.call)
    out.cached.append((case.case_id, planned.pending.cached))
    out.heads[case.case_id] = planned.pending


def _refuse_accepted(lines: list[Line], outcome: BatchOutcome, refusal: Refusal, out: Decided) -> None:
    """The case's accepted lines rejected after all (the case waits, others go on)."""
    accepted = {item.event_id for item in outcome.accepted}
    for line in lines:
        if line.item.event_id in accepted:
            out.accepted.discard(line.item.event_id)
            out.rejects.append(_reject(line, refusal))
