"""The write step of an append: seal, plan, write in one statement, remember the new head.

Personal values are sealed with the case's data key only here, after the decision (the
deciders saw them blinded: no rule reads one); the plan is the one append plan
(`app.domain.append_plan.plan_append`), made with the recording time the batch was
decided with; the write is one call of `caseledger_append`, which refuses a head that
moved (`appends.LostRace`); and the written head goes to this process's state cache, so
the case's next append here can decide on it without reading the case.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import asyncpg

from app.domain.append_plan import plan_append
from app.domain.case import FOLD_VERSION
from app.domain.sealing import holds_personal, seal_event_data
from app.projections.projector import Projector
from app.service.append_decide import Decided
from app.service.case_keys import CaseKeys
from app.service.idempotency import Appended
from app.service.state_cache import CachedCase, StateCache
from app.service.validate import Validated
from app.store import appends


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
    sealed = await sealed_batch(conn, case_id, decided.batch, keys)
    plan = plan_append(
        case_id, head, decided.before, sealed, decided.after, project, now=decided.at, rows_before=rows
    )
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


async def sealed_batch(
    conn: asyncpg.Connection, case_id: str, batch: Sequence[Validated], keys: CaseKeys | None
) -> Sequence[Validated]:
    """The batch as stored: each personal value sealed with the case's data key (the
    key made with the case's first personal value); as is without keys."""
    if keys is None:
        return batch
    sealed, key = [], None
    for v in batch:
        if not holds_personal(v.event.TYPE, v.data, v.metadata):
            sealed.append(v)
            continue
        key = key or await keys.for_append(conn, case_id)
        data, metadata = seal_event_data(v.event.TYPE, v.data, v.metadata, case_id, v.event_id, key)
        sealed.append(replace(v, data=data, metadata=metadata))
    return sealed
