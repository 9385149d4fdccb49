"""The closure clock on a business date: the case as it stood that day.

An event whose business date lies after the evaluation date had not happened yet
on it (`app.domain.business_time`), so the clock on a date is the clock of the
facts dated up to it. `ClockState.log` keeps the folded facts for that; on or
after the state's latest business date nothing is left out and the state answers
as it is, which is what the stored closure-clock row holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime

from app.domain.business_time import happened_by
from app.domain.clock_evolve import evolve_clock
from app.domain.clock_log import Logged
from app.domain.clock_state import ClockState
from app.domain.clock_view import ClockView, clock_facts, clock_on
from app.domain.facts import Fact
from app.domain.policy import PolicyTable

# The log keeps no recording time (no fold reads it); the re-folded facts carry this.
_UNRECORDED = datetime.min.replace(tzinfo=UTC)


def clock_as_of(state: ClockState, as_of: date) -> ClockState:
    """The clock's state as the case stood on `as_of`: the fold of the facts dated on or
    before it (business time). On or after the latest business date that is `state`."""
    if state.latest_on is None or as_of >= state.latest_on:
        return state
    return fold_log_as_of(state.log, as_of)


def fold_log_as_of(log: Iterable[Logged], as_of: date) -> ClockState:
    """The fold of a clock log's facts dated on or before `as_of`: the clock as the case
    stood that day. The log alone is enough (a read of an earlier date needs no more of
    the case's snapshot than its clock's log)."""
    then = ClockState()
    for logged in log:
        fact = Fact(logged.event_id, logged.version, _UNRECORDED, logged.data)
        if happened_by(fact, as_of):
            then = evolve_clock(then, fact)
    return then


def evaluate_clock(
    state: ClockState, as_of: date, policy: PolicyTable, *, as_if_open: bool = False
) -> ClockView:
    """The closure clock as of `as_of`, judged on the case as it stood that day. A closed
    case keeps showing the clock it had.

    `as_if_open` judges a closed case by the clock it had when it closed: a
    provider's successful placement reached before or after a successful
    closure is judged against that clock, not against "closed".
    """
    then = clock_as_of(state, as_of)
    return clock_on(clock_facts(then, policy, as_if_open=as_if_open), as_of)
