"""Sealing in the importer: the service's own rules (docs/privacy.md), per batch.

Why here: an imported line must be stored exactly as an API append of it would be:
decided and folded with its personal values blinded (no snapshot or read model holds
one), written with each personal value sealed with its case's data key, and compared
with a stored copy (a re-import) on its opened values. The batch's cases get their keys
in one query (`CaseKeys.for_append_many`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any
from uuid import UUID

import asyncpg

from app.domain.batch import BatchOutcome
from app.domain.facts import Refusal
from app.domain.sealing import blind_event, holds_personal, is_sealed, open_event_data, seal_event_data
from app.ops.import_lines import Line
from app.service.case_keys import DESTROYED_RULE, CaseKeys

DESTROYED = Refusal(
    DESTROYED_RULE, "the case's records were destroyed (retention): it takes no personal data"
)


def blinded(lines: list[Line]) -> list[Line]:
    """The lines as the deciders see them: personal values replaced by "[sealed]" in the
    parsed event (the line's `data` keeps them, for sealing and for comparing). A line
    without one is kept as it is (most are: dates, ids, money)."""
    seen = []
    for line in lines:
        event = line.item.event
        blind = blind_event(event)
        seen.append(line if blind is event else replace(line, item=replace(line.item, event=blind)))
    return seen


async def opened_known(conn: asyncpg.Connection, keys: CaseKeys, known: dict[UUID, Any]) -> dict[UUID, Any]:
    """Stored copies of the batch's event_ids with their sealed values opened, so a
    re-imported line compares equal to its stored self."""
    result: dict[UUID, Any] = {}
    for event_id, row in known.items():
        data = row["data"]
        if any(is_sealed(value) for value in data.values()):
            key = await keys.for_read(conn, row["case_id"])
            data, _ = open_event_data(row["type"], data, {}, row["case_id"], event_id, key)
            row = {"case_id": row["case_id"], "type": row["type"], "data": data}
        result[event_id] = row
    return result


async def keys_for(
    conn: asyncpg.Connection, keys: CaseKeys, outcomes: Sequence[tuple[str, BatchOutcome]]
) -> dict[str, bytes | None]:
    """The data keys of the batch's cases that write a personal value: one query."""
    wanted = [
        case_id
        for case_id, outcome in outcomes
        if any(holds_personal(v.event.TYPE, v.data, v.metadata) for v in outcome.accepted)
    ]
    return await keys.for_append_many(conn, wanted) if wanted else {}


def sealed_outcome(case_id: str, outcome: BatchOutcome, key: bytes | None) -> BatchOutcome:
    """The outcome with each accepted event's personal values sealed with `key` (given
    when the case writes any). Raises KeyError when the case's key was destroyed."""
    sealed = []
    for v in outcome.accepted:
        if holds_personal(v.event.TYPE, v.data, v.metadata):
            if key is None:
                raise KeyError(case_id)
            data, metadata = seal_event_data(v.event.TYPE, v.data, v.metadata, case_id, v.event_id, key)
            v = replace(v, data=data, metadata=metadata)
        sealed.append(v)
    return replace(outcome, accepted=sealed)
