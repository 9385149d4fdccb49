"""The case: one stream, one consistency boundary, composed of the clock and the ledger.

`decide_case` answers whether a proposed event may be recorded; `evolve_case`
folds a recorded one. Retractions are not folded: `replay` folds a stream as if
every retracted event had never happened, which is what every read model shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from pydantic import TypeAdapter

from app.domain.business_time import facts_as_of
from app.domain.clock import (
    ClockState,
    ClockView,
    clock_as_of,
    decide_clock,
    evaluate_clock,
    evolve_clock,
    initial_clock_state,
)
from app.domain.facts import Fact, Refusal
from app.domain.frozen import quick_init
from app.domain.ledger import LedgerState, decide_ledger, evolve_ledger, initial_ledger_state
from app.domain.policy import PolicyTable
from app.domain.retention import (
    RETENTION_TYPES,
    RetentionState,
    decide_retention,
    destroyed_refusal,
    evolve_retention,
)
from app.events import CaseRecordsDestroyed, EventData, EventRetracted

# Bump when a fold changes meaning or the state's shape: stored snapshots of another
# fold version are ignored and the stream is replayed instead.
# 2: ClockState keeps jobs and authorizations in dicts by id, with the rule (b) and (c)
#    indexes of the clock start; the ledger keeps the payments of milestone
#    pre-authorizations only.
# 3: business time: ClockState keeps the facts it folded (`log`) and their latest business
#    date (`latest_on`), so rules that name a date judge the case as it stood on it.
FOLD_VERSION = 3


@quick_init
@dataclass(frozen=True, slots=True)
class CaseState:
    opened: bool = False
    clock: ClockState = field(default_factory=initial_clock_state)
    ledger: LedgerState = field(default_factory=initial_ledger_state)
    # Legal holds and destruction (app.domain.retention); a snapshot from before it has none.
    retention: RetentionState = field(default_factory=RetentionState)


SNAPSHOT = TypeAdapter(CaseState)


def initial_case_state() -> CaseState:
    return CaseState()


def evolve_case(state: CaseState, fact: Fact) -> CaseState:
    """Fold one recorded, non-retracted fact. Retractions go through `replay`."""
    if isinstance(fact.data, EventRetracted):
        return state
    if fact.data.TYPE in RETENTION_TYPES:  # the clock and the ledger ignore them
        return state.changed(retention=evolve_retention(state.retention, fact.data))
    return CaseState(
        opened=state.opened or fact.data.TYPE == "CaseOpened",
        clock=evolve_clock(state.clock, fact),
        ledger=evolve_ledger(state.ledger, fact),
        retention=state.retention,
    )


def retracted_ids(facts: Iterable[Fact]) -> frozenset:
    return frozenset(f.data.retracted_event_id for f in facts if isinstance(f.data, EventRetracted))


def replay(facts: Sequence[Fact]) -> CaseState:
    """The state as if every retracted event had never happened."""
    skip = retracted_ids(facts)
    state = initial_case_state()
    for fact in facts:
        if not skip or fact.event_id not in skip:  # most streams retract nothing
            state = evolve_case(state, fact)
    return state


def replay_as_of(facts: Sequence[Fact], as_of: date) -> CaseState:
    """The case as it stood on `as_of` (business time): the facts dated up to it, replayed.
    Retractions have no business date: a retracted event never happened on any date."""
    return replay(facts_as_of(facts, as_of))


def clock_view(state: CaseState, as_of: date, policy: PolicyTable) -> ClockView:
    """The clock on `as_of`, judged on the case as it stood that day."""
    return evaluate_clock(state.clock, as_of, policy)


def decide_case(state: CaseState, event: EventData, policy: PolicyTable) -> Refusal | None:
    """Whether `event` may be appended to a case in `state` (retractions: `decide_retraction`).

    The case's own rules come first and only here: one CaseOpened opens the stream
    (case_already_opened) and every other event needs it (case_not_found, a 404 for
    clients); then the clock's refusals, then the ledger's.
    """
    if event.TYPE == "CaseOpened":
        if state.opened:
            return Refusal(
                "case_already_opened",
                "CaseOpened is the first event of a case and is recorded once; this case is already open.",
            )
        return None
    if not state.opened:
        return Refusal(
            "case_not_found",
            f"{event.TYPE} needs an open case: record CaseOpened first.",
            code="case_not_found",
        )

    def clock_on(day: date) -> tuple[str, date | None]:
        """The clock on `day` as the case stood then (4.6 judges reached_on so); a case
        closed successfully by then is judged by the clock it was closed on."""
        then = clock_as_of(state.clock, day)
        closed = then.closed
        as_if_open = closed is not None and closed.outcome == "successful"
        view = evaluate_clock(then, day, policy, as_if_open=as_if_open)
        return view.status, view.eligible_on

    closed = state.clock.closed
    refusal = decide_retention(state.retention, closed.on if closed else None, event, policy)
    if refusal is not None or event.TYPE in RETENTION_TYPES:
        return refusal
    return decide_clock(state.clock, event, policy) or decide_ledger(
        state.ledger, event, clock_on=clock_on, policy=policy
    )


def decide_retraction(history: Sequence[Fact], event: EventRetracted) -> Refusal | None:
    """A retraction names an earlier, not yet retracted, non-retraction event of this case."""
    destroyed = next((f.data for f in history if isinstance(f.data, CaseRecordsDestroyed)), None)
    if destroyed is not None:  # its reason is free text: a destroyed case takes none
        return destroyed_refusal(destroyed.destroyed_on, event)
    target_id = event.retracted_event_id
    target = next((f for f in history if f.event_id == target_id), None)
    if target is None:
        return Refusal(
            "retraction_target_not_in_case",
            f"event {target_id} is not an event of this case (it is unknown or belongs to another case).",
        )
    if isinstance(target.data, EventRetracted):
        return Refusal(
            "retraction_of_retraction",
            f"event {target_id} is itself a retraction; retractions cannot be retracted.",
        )
    if target.type == "CaseOpened":
        return Refusal(
            "case_opened_not_retractable",
            "CaseOpened cannot be retracted; a case opened by mistake is closed as unsuccessful.",
        )
    if target.type in RETENTION_TYPES:
        return Refusal(
            "retention_event_not_retractable",
            f"{target.type} cannot be retracted: a hold placed by mistake is lifted, and a "
            "destruction cannot be undone (docs/privacy.md).",
        )
    if target_id in retracted_ids(history):
        return Refusal("already_retracted", f"event {target_id} was already retracted.")
    return None
