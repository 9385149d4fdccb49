"""The one batch decide loop: each proposed event against the state the ones before it leave.

The service stops at the first refusal (`keep_going=False`: an append is all or
nothing); the importer leaves a refused line out and decides the case's later
lines against the state without it (`keep_going=True`), and there a bug in the
rules costs one line (a `server_error` refusal) instead of the whole import.

An import of history may also pass `record`: a line the rules refuse is then kept
as the fact it is (the agency did close the case, did pay the claim), marked by
`record` with its refusal, and listed in `findings`; only what the fold cannot take
(a second CaseOpened, a retraction of nothing) stays refused.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from uuid import UUID

from app.domain.case import CaseState, decide_case, decide_retraction, evolve_case, replay
from app.domain.facts import Fact, Refusal
from app.domain.policy import PolicyTable
from app.events import EventRetracted
from app.events.types import EventData


class Proposal(Protocol):
    """What the loop needs of a proposed event (the service's `Validated`, an import line's item)."""

    @property
    def event_id(self) -> UUID: ...

    @property
    def event(self) -> EventData: ...


# A check the caller adds before the rules (the service's "a provider touches only its own PBA").
PreCheck = Callable[[CaseState, Proposal], Refusal | None]

# How an import marks a rule-breaking line it keeps as a fact (the finding rides along).
Record = Callable[[Proposal, Refusal], Proposal]

# Refusals that say the event cannot be part of the case at all, so none is kept as a fact.
NOT_RECORDABLE = frozenset({"case_already_opened"})


@dataclass(frozen=True, slots=True)
class Refused:
    index: int
    proposal: Proposal
    refusal: Refusal
    state: CaseState  # the state the proposal was decided against


@dataclass(slots=True)
class BatchOutcome:
    state: CaseState
    history: list[Fact] | None
    accepted: list[Proposal] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)
    findings: list[Refused] = field(default_factory=list)  # kept as facts (with `record`)
    repeats: int = 0  # proposals whose event_id was accepted earlier in this batch


def decide_batch(
    state: CaseState,
    history: list[Fact] | None,
    batch: Sequence[Proposal],
    policy: PolicyTable,
    *,
    version: int,
    at: datetime,
    keep_going: bool,
    pre_check: PreCheck | None = None,
    record: Record | None = None,
) -> BatchOutcome:
    """Decide `batch` on a case at `version` in `state`; `history` is the whole stream when
    a retraction needs it (None otherwise). Accepted events get versions from `version + 1`."""
    outcome = BatchOutcome(state, list(history) if history is not None else None)
    accepted_ids: set[UUID] = set()
    for index, proposal in enumerate(batch):
        if proposal.event_id in accepted_ids:
            outcome.repeats += 1
            continue
        refusal = _decide_one(outcome, proposal, policy, pre_check, keep_going=keep_going)
        next_version = version + len(outcome.accepted) + 1
        if refusal is None:
            refusal = _accept(outcome, proposal, next_version, at, keep_going=keep_going)
        elif record is not None and _recordable(proposal, refusal):
            kept = Refused(index, record(proposal, refusal), refusal, outcome.state)
            refusal = _keep_as_fact(outcome, kept, next_version, at)
        if refusal is None:
            accepted_ids.add(proposal.event_id)
            continue
        outcome.refused.append(Refused(index, proposal, refusal, outcome.state))
        if not keep_going:
            break
    return outcome


def _keep_as_fact(outcome: BatchOutcome, kept: Refused, version: int, at: datetime) -> Refusal | None:
    """Fold in a refused line as the fact it is; if the fold cannot take it, it stays refused."""
    if _accept(outcome, kept.proposal, version, at, keep_going=True) is not None:
        return kept.refusal
    outcome.findings.append(kept)
    return None


def _recordable(proposal: Proposal, refusal: Refusal) -> bool:
    """A rule the event breaks, not a stream it cannot belong to."""
    return (
        refusal.code == "rule_violation"
        and refusal.rule not in NOT_RECORDABLE
        and not isinstance(proposal.event, EventRetracted)
    )


def _decide_one(
    outcome: BatchOutcome,
    proposal: Proposal,
    policy: PolicyTable,
    pre_check: PreCheck | None,
    *,
    keep_going: bool,
) -> Refusal | None:
    try:
        refusal = pre_check(outcome.state, proposal) if pre_check is not None else None
        if refusal is not None:
            return refusal
        if isinstance(proposal.event, EventRetracted):
            return decide_retraction(outcome.history or [], proposal.event)
        return decide_case(outcome.state, proposal.event, policy)
    except Exception as exc:
        if not keep_going:
            raise
        return server_error(exc)


def _accept(
    outcome: BatchOutcome, proposal: Proposal, version: int, at: datetime, *, keep_going: bool
) -> Refusal | None:
    """Fold the accepted proposal in; if folding fails (import only) the outcome is left as
    it was and the proposal is refused instead."""
    fact = Fact(proposal.event_id, version, at, proposal.event)
    try:
        if isinstance(proposal.event, EventRetracted):
            history = [*(outcome.history or []), fact]
            outcome.state, outcome.history = replay(history), history
        else:
            outcome.state = evolve_case(outcome.state, fact)
            if outcome.history is not None:
                outcome.history.append(fact)
    except Exception as exc:
        if not keep_going:
            raise
        return server_error(exc)
    outcome.accepted.append(proposal)
    return None


def server_error(exc: Exception) -> Refusal:
    return Refusal(
        "server_error",
        f"the rules failed on this event ({type(exc).__name__}: {exc}); the API answers 500 here",
        code="server_error",
    )
