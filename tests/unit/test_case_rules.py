"""The case: its own rules (open once, nothing before CaseOpened), its snapshot, and the
indexes and shortcuts of the folds and views checked against their definitions.

The shortcuts (the clock state's rule (b) and (c) indexes behind `clock_start`,
`clock_facts`, the ledger's written-out `to_json`) must say exactly what the plain
definitions say; the property tests below fold random case streams, valid and
unchecked, with and without retractions, and compare.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import given as hypothesis_given
from hypothesis import strategies as st

from app.domain.case import (
    SNAPSHOT,
    CaseState,
    decide_case,
    evolve_case,
    initial_case_state,
    replay,
)
from app.domain.clock import clock_facts, evaluate_clock
from app.domain.clock_state import ClockStartCandidate, ClockState, clock_phase, open_phase
from app.domain.clock_view import (
    _holding,
    clock_start,
    clock_start_candidates,
    eligible_on_for,
    holds_by_end_date,
    rule_c_date,
)
from app.domain.facts import Fact
from app.domain.ledger import ledger_view, money
from app.domain.policy import DEFAULT_POLICY
from app.events.types import EventData
from tests.builders import event
from tests.given import fold, recorded
from tests.unit import test_clock_rules as clock_tests
from tests.unit import test_ledger_rules as ledger_tests

# --- the case's own rules --------------------------------------------------------------------


def _open_case() -> CaseState:
    return fold(evolve_case, initial_case_state(), recorded(clock_tests.opened()))


BEFORE_OPENING = [
    clock_tests.started("J1", "2025-01-06"),
    clock_tests.issued("A1", "2025-03-31"),
    clock_tests.amended("2025-01-20", ("transport",)),
    clock_tests.closed("2025-07-15", "unsuccessful"),
    ledger_tests.pba_opened(),
    ledger_tests.milestone_auth("AUTH-PLAN", "placement_plan_signed"),
]


def test_any_event_before_case_opened_is_case_not_found() -> None:
    for proposed in BEFORE_OPENING:
        refusal = decide_case(initial_case_state(), proposed, DEFAULT_POLICY)
        assert refusal is not None, proposed.TYPE
        assert (refusal.rule, refusal.code) == ("case_not_found", "case_not_found")
        assert refusal.detail == f"{proposed.TYPE} needs an open case: record CaseOpened first."


def test_a_second_case_opened_is_case_already_opened() -> None:
    assert decide_case(initial_case_state(), clock_tests.opened(), DEFAULT_POLICY) is None
    refusal = decide_case(_open_case(), clock_tests.opened(), DEFAULT_POLICY)
    assert refusal is not None
    assert (refusal.rule, refusal.code) == ("case_already_opened", "rule_violation")
    assert "already open" in refusal.detail


def test_a_service_payment_leaves_the_ledger_as_it_was() -> None:
    """Only a milestone's pre-authorization has its payments remembered by the ledger, so a
    post-employment payment keeps the ledger (and the service its ledger rows)."""
    facts = recorded(
        clock_tests.opened(),
        clock_tests.started("J1", "2025-01-06"),
        clock_tests.issued("A1", "2025-03-31"),
        clock_tests.paid("A1", "2025-02-01", full=True),
    )
    before = fold(evolve_case, initial_case_state(), facts[:3])
    after = evolve_case(before, facts[3])
    assert after.ledger is before.ledger
    assert after.clock is not before.clock


def test_the_ledger_reads_the_same_from_a_jsonb_snapshot_whatever_its_ids() -> None:
    """jsonb gives object keys back shortest first: a snapshot of a case whose later
    authorization has the shorter id must still list PBAs and anomalies alike."""
    facts = recorded(
        clock_tests.opened(),
        ledger_tests.pba_opened(pba_id="PBA-LONGER-ID"),
        ledger_tests.milestone_auth("AUTH-LONGER-ID", "placement_plan_signed", pba_id="PBA-LONGER-ID"),
        ledger_tests.milestone_auth("A2", "job_hire", pba_id="PBA-LONGER-ID"),
        ledger_tests.paid("AUTH-LONGER-ID", "2025-02-01", "1000.00"),
        ledger_tests.paid("A2", "2025-02-02", "1300.00"),
    )
    state = fold(evolve_case, initial_case_state(), facts)
    view = ledger_view(state.ledger, DEFAULT_POLICY)
    assert len(view[0].anomalies) == 2  # both payments pay a milestone no claim has earned
    restored = SNAPSHOT.validate_python(_jsonb_order(orjson.loads(SNAPSHOT.dump_json(state))))
    assert ledger_view(restored.ledger, DEFAULT_POLICY) == view


# --- random case streams ---------------------------------------------------------------------

_LEDGER_DAY0 = date(2025, 1, 1)

clock_event = clock_tests.any_event.map(lambda e: [e])
ledger_events = st.tuples(ledger_tests._step, st.integers(0, 300)).map(
    lambda s: ledger_tests._events_of(s[0], _LEDGER_DAY0 + timedelta(days=s[1]))
)
_KINDS = (
    "issue", "issue", "issue", "pay", "pay", "pay", "pay", "cancel", "job", "end",
    "amend", "m4", "cancel_ef", "close", "pba", "claim",
)  # fmt: skip
_CATEGORIES = ("job_coaching", "transport", "tools")


def _story(actions: list[tuple[str, int, int, bool]]) -> list[EventData]:
    """A case's life from drawn actions: dates mostly move on, and payments, cancellations
    and ends name authorizations and jobs the story already has, so most of it is accepted."""
    day, events = date(2025, 1, 6), [clock_tests.started("J1", "2025-01-06")]
    auths: list[str] = []
    jobs = ["J1"]
    for kind, n, shift, flag in actions:
        day += timedelta(days=shift % 12)
        on = day.isoformat()
        if kind == "issue":
            auth = "A" + "x" * (n % 4) + str(len(auths) + 1)  # jsonb reorders these keys
            auths.append(auth)
            end = (day + timedelta(days=30 * (n % 4))).isoformat()  # some end on one day
            category = _CATEGORIES[n % 3] if flag else "job_coaching"
            extra: dict[str, Any] = {"post_employment": flag}
            if n % 7 == 0:
                extra.update(pba_id="PBA-1", milestone=("job_hire", "successful_placement")[n % 2])
            events.append(clock_tests.issued(auth, end, category=category, **extra))
        elif kind == "pay" and auths:
            paid_on = (day - timedelta(days=n % 40)).isoformat()
            amount = "300.00" if n % 3 else "1300.00"
            events.append(clock_tests.paid(auths[n % len(auths)], paid_on, flag, amount))
        elif kind == "cancel" and auths:
            events.append(clock_tests.cancelled(auths[n % len(auths)], on))
        elif kind == "job":
            job = jobs[n % len(jobs)] if flag else f"J{len(jobs) + 1}"
            jobs.append(job)
            extra = {"continuous_with_job_id": jobs[0]} if n % 3 == 0 and job != jobs[0] else {}
            events.append(clock_tests.started(job, on, **extra))
        elif kind == "end":
            events.append(clock_tests.ended(jobs[n % len(jobs)], on))
        elif kind == "amend":
            events.append(
                clock_tests.amended(on, supported_employment=flag)
                if n % 4 == 0
                else clock_tests.amended(on, (_CATEGORIES[n % 3],))
            )
        elif kind == "m4":
            events.append(clock_tests.m4_ended(on))
        elif kind == "cancel_ef":
            events.append(clock_tests.cancel_ef(on))
        elif kind == "close" and n % 3 == 0:
            events.append(clock_tests.closed(on, "successful" if flag else "unsuccessful"))
        elif kind == "pba":
            events += ledger_tests._events_of(("happy_path", "PBA-1", "CRP-7", "J1"), day)
        elif kind == "claim":
            milestone = ledger_tests._MILESTONES[n % 3]
            events.append(ledger_tests._claim("PBA-1", milestone, 1, "J1", day, False))
            events.append(ledger_tests.paid(ledger_tests._auth_id("PBA-1", milestone, 1), day, "1000.00"))
    return events


stories = st.lists(
    st.tuples(st.sampled_from(_KINDS), st.integers(0, 1000), st.integers(0, 40), st.booleans()),
    min_size=5,
    max_size=60,
).map(_story)
proposals = st.one_of(
    stories,
    stories,
    st.lists(st.one_of(clock_event, ledger_events), max_size=25).map(
        lambda batches: [e for batch in batches for e in batch]
    ),
)


def _accepted(se: bool, proposed: list[EventData]) -> list[Fact]:
    """The stream the service would record: each proposal only if `decide_case` accepts it."""
    state, facts = initial_case_state(), []
    for e in [clock_tests.opened(se=se), *proposed]:
        if decide_case(state, e, DEFAULT_POLICY) is None:
            (fact,) = recorded(e, first_version=len(facts) + 1, ids=[UUID(int=len(facts) + 1)])
            facts.append(fact)
            state = evolve_case(state, fact)
    return facts


def _with_retractions(facts: list[Fact], picks: list[int]) -> list[Fact]:
    """`facts` followed by retractions of some of its events (never CaseOpened)."""
    if len(facts) < 2:
        return facts
    targets = sorted({1 + p % (len(facts) - 1) for p in picks})
    retractions = [
        event("EventRetracted", retracted_event_id=str(facts[t].event_id), reason="typo") for t in targets
    ]
    ids = [UUID(int=len(facts) + 1 + i) for i in range(len(retractions))]
    return facts + recorded(*retractions, first_version=len(facts) + 1, ids=ids)


def _reference_clock_start(clock: ClockState) -> ClockStartCandidate | None:
    """The definition: the latest of every candidate, on the same date the higher version."""
    if clock.closed is not None:
        return clock.closed.clock_start
    candidates = clock_start_candidates(clock)
    return max(candidates, key=lambda c: (c.on, c.version), default=None)


def _plain(value: Any) -> Any:
    """The generic conversion `to_json` replaced, kept here as its definition."""
    if isinstance(value, Decimal):
        return money(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    return value


def _jsonb_order(value: Any) -> Any:
    """JSON as PostgreSQL's jsonb gives it back: object keys by length, then bytes."""
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: (len(k.encode()), k.encode()))
        return {k: _jsonb_order(value[k]) for k in keys}
    if isinstance(value, list):
        return [_jsonb_order(v) for v in value]
    return value


def _check_state(state: CaseState, as_of: date) -> None:
    clock = state.clock
    # The snapshot: through JSON and back, the same state and the same bytes.
    dumped = SNAPSHOT.dump_json(state)
    restored = SNAPSHOT.validate_python(orjson.loads(dumped))
    assert restored == state
    assert SNAPSHOT.dump_json(restored) == dumped

    # PostgreSQL stores the snapshot as jsonb, which gives object keys back in its own
    # order (shorter keys first): the clock must say the same from such a snapshot.
    from_jsonb = SNAPSHOT.validate_python(_jsonb_order(orjson.loads(dumped)))
    assert from_jsonb == state
    assert evaluate_clock(from_jsonb.clock, as_of, DEFAULT_POLICY) == evaluate_clock(
        clock, as_of, DEFAULT_POLICY
    )
    assert clock_start_candidates(from_jsonb.clock) == clock_start_candidates(clock)
    # ...and so must the ledger (its PBAs and their anomalies in the same order).
    assert ledger_view(from_jsonb.ledger, DEFAULT_POLICY) == ledger_view(state.ledger, DEFAULT_POLICY)

    # The rule (b) and (c) indexes say what the authorizations say.
    authorizations = clock.authorizations
    assert clock.rule_b_authorizations == tuple(
        a.authorization_id for a in authorizations.values() if holds_by_end_date(a)
    )
    paid = [
        (d.on, d.version, a.authorization_id)
        for a in authorizations.values()
        if not holds_by_end_date(a) and (d := rule_c_date(a)) is not None
    ]
    assert clock.rule_c_authorization == (max(paid)[2] if paid else None)

    # clock_start, the stored clock facts and the blocking sentences against their definitions.
    start = _reference_clock_start(clock)
    assert clock_start(clock) == start
    in_follow_up = open_phase(clock) == "in_follow_up"
    expected_start = start.on if in_follow_up and start is not None else None
    facts = clock_facts(clock, DEFAULT_POLICY)
    assert (facts.phase, facts.clock_start, facts.eligible_on) == (
        clock_phase(clock),
        expected_start,
        None if expected_start is None else eligible_on_for(expected_start, DEFAULT_POLICY),
    )
    if start is not None:
        assert _holding(clock, start.on) == [
            c.holds for c in clock_start_candidates(clock) if c.on == start.on
        ]
    view = evaluate_clock(clock, as_of, DEFAULT_POLICY)
    assert evaluate_clock(restored.clock, as_of, DEFAULT_POLICY) == view

    # The ledger's JSON is the plain form of its view, field by field.
    for pba in ledger_view(state.ledger, DEFAULT_POLICY):
        assert pba.to_json() == _plain(pba)
        assert orjson.loads(orjson.dumps(pba.to_json())) == pba.to_json()


PROPERTY_SETTINGS = settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@hypothesis_given(
    st.booleans(),
    proposals,
    st.lists(st.integers(0, 1000), max_size=3),
    st.integers(0, 400),
)
def test_property_valid_streams_round_trip_and_match_the_definitions(
    se: bool, proposed: list[EventData], picks: list[int], as_of_day: int
) -> None:
    facts = _accepted(se, proposed)
    as_of = _LEDGER_DAY0 + timedelta(days=as_of_day)
    states = [initial_case_state()]
    for fact in facts:
        states.append(evolve_case(states[-1], fact))
    for state in states[1:]:
        _check_state(state, as_of)
    assert replay(facts) == states[-1]
    # A reader folds the events after a snapshot onto it: the same state as a full fold.
    middle = len(facts) // 2
    snapshot = SNAPSHOT.validate_python(orjson.loads(SNAPSHOT.dump_json(states[middle])))
    assert fold(evolve_case, snapshot, facts[middle:]) == states[-1]
    # Retractions re-fold the stream without the retracted events.
    _check_state(replay(_with_retractions(facts, picks)), as_of)


@PROPERTY_SETTINGS
@hypothesis_given(st.booleans(), proposals, st.integers(0, 400))
def test_property_unchecked_streams_fold_and_match_the_definitions(
    se: bool, proposed: list[EventData], as_of_day: int
) -> None:
    """A stream re-folded without retracted events may hold facts decide would refuse now."""
    facts = recorded(clock_tests.opened(se=se), *proposed)
    as_of = _LEDGER_DAY0 + timedelta(days=as_of_day)
    state = initial_case_state()
    for fact in facts:
        state = evolve_case(state, fact)
        _check_state(state, as_of)


def test_changed_copies_every_field_but_the_named_ones_and_leaves_the_original_alone():
    from dataclasses import FrozenInstanceError

    from app.domain.clock_state import ClockState

    before = ClockState().changed(opened=True, ipe_service_categories=("job_coaching",))
    after = before.changed(supported_employment=True)
    assert after.supported_employment is True and before.supported_employment is False
    assert all(
        getattr(after, f.name) == getattr(before, f.name)
        for f in fields(ClockState)
        if f.name != "supported_employment"
    )
    with pytest.raises(TypeError):
        before.changed(no_such_field=1)  # type: ignore[call-arg]
    with pytest.raises(FrozenInstanceError):
        after.opened = False  # type: ignore[misc]
