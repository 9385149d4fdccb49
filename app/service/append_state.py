"""The state a batch is decided against, read at the head the append loaded."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from app.domain.case import CaseState, replay
from app.domain.facts import Fact
from app.events import EventRetracted
from app.service.reads import fold_case, to_fact
from app.service.state_cache import StateCache
from app.service.validate import Validated
from app.store import streams as store


async def state_for_batch(
    conn: asyncpg.Connection,
    case_id: str,
    head: store.CaseHead,
    batch: Sequence[Validated],
    cache: StateCache,
) -> tuple[CaseState, list[Fact] | None]:
    """The current state; with the whole history too when a retraction needs it."""
    if any(isinstance(v.event, EventRetracted) for v in batch):
        history = [to_fact(e) for e in await store.read_stream(conn, case_id)] if head.version else []
        return replay(history), history
    if head.version == 0:
        return CaseState(), None
    state = await fold_case(
        conn,
        case_id,
        version=head.version,
        state_version=head.state_version,
        fold_version=head.fold_version,
        snapshot=head.state,
        cache=cache,
    )
    return state, None
