"""The clock's log keeps each folded fact compactly, and gives back the same event."""

from __future__ import annotations

import pickle
import uuid
from datetime import UTC, date, datetime

import orjson

from app.domain.case import SNAPSHOT, replay
from app.domain.clock import clock_as_of, fold_log_as_of
from app.domain.clock_log import CLOCK_LOG
from app.domain.clock_state import Logged
from app.domain.facts import Fact
from app.events.registry import parse_event
from tests.builders import case_opened, employment_ended, employment_started


def facts(*events: dict) -> list[Fact]:
    return [
        Fact(uuid.uuid4(), n, datetime(2024, 1, 1, tzinfo=UTC), parse_event(e["type"], e["data"]))
        for n, e in enumerate(events, 1)
    ]


def test_a_logged_fact_gives_back_its_event_and_survives_a_pickle() -> None:
    fact = facts(case_opened(), employment_started("j1", "2024-02-01"))[1]
    logged = Logged(fact.event_id, fact.version, fact.data)
    assert (logged.event_id, logged.version, logged.data) == (fact.event_id, fact.version, fact.data)
    assert logged.data.to_json_dict() == fact.data.to_json_dict()
    assert pickle.loads(pickle.dumps(logged)) == logged


def test_a_snapshot_stores_the_log_as_before_and_reads_back_an_equal_state() -> None:
    state = replay(
        facts(case_opened(), employment_started("j1", "2024-02-01"), employment_ended("j1", "2024-03-01"))
    )
    stored = orjson.loads(SNAPSHOT.dump_json(state))
    first = stored["clock"]["log"][1]
    assert set(first) == {"event_id", "version", "data"}
    assert first["data"] == {"type": "EmploymentStarted", "data": state.clock.log[1].data.to_json_dict()}
    assert SNAPSHOT.validate_python(stored) == state
    assert SNAPSHOT.validate_json(SNAPSHOT.dump_json(state)) == state


def test_a_state_read_back_from_a_snapshot_judges_earlier_dates_alike_and_stores_the_same_bytes() -> None:
    state = replay(
        facts(case_opened(), employment_started("j1", "2024-02-01"), employment_ended("j1", "2024-03-01"))
    )
    stored = SNAPSHOT.dump_json(state)
    restored = SNAPSHOT.validate_json(stored)
    assert SNAPSHOT.dump_json(restored) == stored  # its payloads stored again as they were read
    for day in (date(2024, 1, 15), date(2024, 2, 15), date(2024, 3, 2)):
        assert clock_as_of(restored.clock, day) == clock_as_of(state.clock, day)


def test_the_clock_log_read_alone_from_a_snapshot_judges_earlier_dates_as_the_whole_state() -> None:
    state = replay(
        facts(case_opened(), employment_started("j1", "2024-02-01"), employment_ended("j1", "2024-03-01"))
    )
    log = CLOCK_LOG.validate_python(orjson.loads(SNAPSHOT.dump_json(state))["clock"]["log"])
    assert log == state.clock.log
    for day in (date(2024, 1, 15), date(2024, 2, 15), date(2024, 2, 29)):
        assert fold_log_as_of(log, day) == clock_as_of(state.clock, day)
    assert fold_log_as_of(log, date(2024, 3, 2)).jobs == state.clock.jobs


def test_logged_facts_read_back_compare_by_their_payloads_and_else_by_their_events() -> None:
    fact = facts(case_opened(), employment_started("j1", "2024-02-01"))[1]
    stored = fact.data.to_json_dict()
    one = Logged.stored(fact.event_id, 2, "EmploymentStarted", stored)
    assert one == Logged.stored(fact.event_id, 2, "EmploymentStarted", dict(stored))
    assert one == Logged(fact.event_id, 2, fact.data)
    # the same event spelled otherwise (a wage without its cents) is still the same event
    assert one == Logged.stored(fact.event_id, 2, "EmploymentStarted", {**stored, "hourly_wage": "15.5"})
    assert one != Logged.stored(fact.event_id, 2, "EmploymentStarted", {**stored, "hourly_wage": "18.00"})
