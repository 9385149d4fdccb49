"""What one case of an import batch writes: `caseledger_append`'s arguments, refused claims.

Hashes chain on from the case's head exactly as `AppendHandler._write` chains
them; the snapshot is written at the handler's cadence, and the clock and ledger
rows only when they changed, as the handler does.
"""

from __future__ import annotations

from typing import Any

from app.domain.case import FOLD_VERSION, SNAPSHOT, CaseState
from app.domain.facts import Refusal
from app.domain.hashing import GENESIS, event_hash
from app.domain.ledger import pba_provider
from app.domain.policy import PolicyTable
from app.ops.import_heads import CaseAtHand
from app.ops.import_lines import Line
from app.projections.closure_clock import clock_row
from app.projections.ledger import ledger_rows
from app.service.append import SNAPSHOT_EVERY
from app.service.state_cache import CachedCase


def refused_claim(case: CaseAtHand, line: Line, refusal: Refusal, actor: str) -> tuple[Any, ...]:
    """As `AppendHandler._keep_refused_claim` keeps it: the ledger lists it with its reason."""
    data = line.item.data
    pba_id = data.get("pba_id")
    return (
        case.case_id,
        str(line.item.event_id),
        pba_id,
        pba_provider(case.state.ledger, pba_id),
        line.item.event.TYPE,
        data,
        refusal.rule,
        refusal.detail,
        actor,
    )


def append_args(
    case: CaseAtHand, before: CaseState, policy: PolicyTable
) -> tuple[tuple[Any, ...], CachedCase]:
    """`caseledger_append`'s arguments, and what the import's cache keeps once they are written."""
    previous, hashes, items = case.last_hash or GENESIS, [], []
    for offset, line in enumerate(case.accepted, start=1):
        item = line.item
        previous = event_hash(
            previous,
            case_id=case.case_id,
            version=case.version + offset,
            event_id=item.event_id,
            type=item.event.TYPE,
            schema_version=item.event.SCHEMA_VERSION,
            data=item.data,
            metadata=item.metadata,
            recorded_at=case.at,
        )
        hashes.append(previous)
        items.append(item)
    clock_before, ledger_before = _rows_before(case, before, policy)
    # As the handler does: a fold the batch did not touch keeps its rows.
    after = case.state
    clock = clock_before if after.clock is before.clock else clock_row(after, policy)
    ledger = ledger_before if after.ledger is before.ledger else ledger_rows(after, policy)
    cached = CachedCase(case.version + len(items), case.state, clock, ledger)
    return (
        case.case_id,
        case.version,
        [i.event_id for i in items],
        [i.event.TYPE for i in items],
        [i.event.SCHEMA_VERSION for i in items],
        [i.data for i in items],
        [i.metadata for i in items],
        hashes,
        case.at,
        FOLD_VERSION,
        SNAPSHOT.dump_json(case.state).decode() if _snapshot_due(case) else None,
        clock if clock != clock_before else None,
        ledger if ledger != ledger_before else None,
    ), cached


def _rows_before(
    case: CaseAtHand, before: CaseState, policy: PolicyTable
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    if case.rows_before is not None:
        return case.rows_before
    if not case.version:
        return None, []
    return clock_row(before, policy), ledger_rows(before, policy)


def _snapshot_due(case: CaseAtHand) -> bool:
    """The handler's cadence: a new case, an outdated fold, a retraction, or SNAPSHOT_EVERY."""
    head = case.head
    if head is None or head["fold_version"] != FOLD_VERSION or case.history is not None:
        return True
    return case.version + len(case.accepted) - head["state_version"] >= SNAPSHOT_EVERY
