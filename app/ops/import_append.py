"""What one case of an import batch writes: its append plan (the service's own) and refused claims.

The import decides with the service's batch loop (`app.domain.batch`, going on
past a refused line) and plans with the service's `plan_append`, so the hash
chain, `recorded_at`, the snapshot cadence and the read-model rows are the ones
an API append of the same lines would write.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.domain.append_plan import Head, Projector, plan_append
from app.domain.batch import BatchOutcome, Refused
from app.domain.case import FOLD_VERSION, CaseState
from app.domain.ledger import pba_provider
from app.ops.import_heads import CaseAtHand
from app.service.state_cache import CachedCase
from app.store.appends import AppendCall


@dataclass(frozen=True, slots=True)
class Pending:
    """A case as a batch still being written leaves it: its head (what `case_state` will
    hold) and its folded state and read-model rows."""

    head: Head
    cached: CachedCase


@dataclass(frozen=True, slots=True)
class CaseAppend:
    call: AppendCall
    pending: Pending


def refused_claim(case_id: str, refused: Refused, actor: str) -> tuple[Any, ...]:
    """As the service keeps it: the ledger lists it with its reason (key: the event_id)."""
    item: Any = refused.proposal
    pba_id = item.data.get("pba_id")
    return (
        case_id,
        str(item.event_id),
        pba_id,
        pba_provider(refused.state.ledger, pba_id),
        item.event.TYPE,
        item.data,
        refused.refusal.rule,
        refused.refusal.detail,
        actor,
    )


def case_append(case: CaseAtHand, before: CaseState, outcome: BatchOutcome, project: Projector) -> CaseAppend:
    """The case's `caseledger_append` call, and how the case stands once it is written."""
    plan = plan_append(
        case.case_id,
        case.head,
        before,
        outcome.accepted,  # type: ignore[arg-type]  (import lines' items are Validated)
        outcome.state,
        project,
        now=case.at,
        rows_before=case.rows_before,
    )
    cached = CachedCase.written(plan, case.head)
    return CaseAppend(
        AppendCall.of(plan, FOLD_VERSION, alone=False), Pending(plan.head_after(case.head), cached)
    )
