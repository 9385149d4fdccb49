"""The write step of an append: seal, plan, write in one statement, remember the new head.

Personal values are sealed with the case's data key only here, after the decision (the
deciders saw them blinded: no rule reads one); the plan is the one append plan
(`app.domain.append_plan.plan_append`), made with the recording time the batch was
decided with; the write is one call of `caseledger_append`, which refuses a head that
moved (`appends.LostRace`); and the written head goes to this process's state cache, so
the case's next append here can decide on it without reading the case. A case's first
data key is stored by that same statement (`data_keys.put_with_append`): sealing a new
case costs no round trip of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import asyncpg

from app.domain.append_plan import AppendPlan, plan_append
from app.domain.case import FOLD_VERSION
from app.domain.sealing import holds_personal, seal_event_data
from app.projections.projector import Projector
from app.service.append_decide import Decided
from app.service.case_keys import CaseKeys, OfferedKey
from app.service.idempotency import Appended
from app.service.state_cache import CachedCase, StateCache
from app.service.validate import Validated
from app.store import appends, data_keys


async def write_decided(
    conn: asyncpg.Connection,
    case_id: str,
    decided: Decided,
    *,
    project: Projector,
    cache: StateCache,
    keys: CaseKeys | None,
) -> Appended:
    """Plan (with the `recorded_at` the batch was decided with) and write; cache the result."""
    head = decided.head
    cached = cache.get(case_id)
    rows = (cached.clock_row, cached.ledger_rows) if cached and cached.version == head.version else None

    def plan_with(key: bytes | None) -> AppendPlan:
        sealed = sealed_batch(case_id, decided.batch, key)
        return plan_append(
            case_id, head, decided.before, sealed, decided.after, project, now=decided.at, rows_before=rows
        )

    key, offered = await key_for_batch(conn, case_id, decided.batch, keys)
    plan = plan_with(key)
    positions = None
    if offered is not None and keys is not None:
        plan, positions = await _write_with_key(conn, case_id, plan, offered, keys, plan_with)
    if positions is None:
        positions = await appends.write(conn, appends.AppendCall.of(plan, FOLD_VERSION, alone=True))
    cache.put(case_id, CachedCase.written(plan, head))
    return Appended(
        case_id,
        plan.new_version,
        [
            {"event_id": str(e.event_id), "version": e.version, "position": p, "type": e.type}
            for e, p in zip(plan.events, positions, strict=True)
        ],
    )


async def _write_with_key(
    conn: asyncpg.Connection,
    case_id: str,
    plan: AppendPlan,
    offered: OfferedKey,
    keys: CaseKeys,
    plan_with: Callable[[bytes], AppendPlan],
) -> tuple[AppendPlan, list[int] | None]:
    """The case's first key stored with the append, one statement. When the case had a key
    already (given by another process) nothing was written: the plan sealed again with the
    stored key, for the caller's plain append (positions None). Refuses a destroyed case."""
    call = appends.AppendCall.of(plan, FOLD_VERSION, alone=True)
    stored, positions = await data_keys.put_with_append(conn, call, offered.wrapped, keys.master.key_id)
    key = keys.settle(case_id, offered, stored)
    return (plan, positions) if positions is not None else (plan_with(key), None)


async def key_for_batch(
    conn: asyncpg.Connection, case_id: str, batch: Sequence[Validated], keys: CaseKeys | None
) -> tuple[bytes | None, OfferedKey | None]:
    """The key that seals the batch (None: nothing to seal), and the fresh key offered when
    this process knows no key of the case: that one is stored with the append itself, so a
    new case's key costs no round trip of its own. A remembered key not confirmed within
    the TTL is confirmed first (a retention run may have destroyed it)."""
    if keys is None or not any(holds_personal(v.event.TYPE, v.data, v.metadata) for v in batch):
        return None, None
    key = keys.fresh_for_append(case_id)
    if key is not None:
        return key, None
    if keys.knows(case_id):
        return await keys.for_append(conn, case_id), None
    offered = keys.offer(case_id)
    return offered.key, offered


def sealed_batch(case_id: str, batch: Sequence[Validated], key: bytes | None) -> Sequence[Validated]:
    """The batch as stored: each personal value sealed with the case's data key; as is
    without a key."""
    if key is None:
        return batch
    sealed = []
    for v in batch:
        if not holds_personal(v.event.TYPE, v.data, v.metadata):
            sealed.append(v)
            continue
        data, metadata = seal_event_data(v.event.TYPE, v.data, v.metadata, case_id, v.event_id, key)
        sealed.append(replace(v, data=data, metadata=metadata))
    return sealed
