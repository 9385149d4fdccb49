"""Legal holds, the destruction's own decider, and the retention period in the policy table
(issue 13, item 3): the pure rules the run, its dry run and the append path share."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import uuid4

import orjson
import pytest

from app.domain.case import SNAPSHOT, decide_case, decide_retraction, replay
from app.domain.merkle_leaves import policy_version_record
from app.domain.policy import DEFAULT_POLICY, PolicyTable, hashed_record, version_from_row, version_record
from app.domain.policy_history import policy_hash
from app.domain.retention import facts_of, hold_in_force
from app.events import EventData
from tests.builders import case_closed, case_opened, employment_started, event, retracted, typed
from tests.given import recorded

ROW = {
    "effective_from": "2000-01-01",
    "closure_wait_days": 90,
    "milestone_rates": {
        "placement_plan_signed": "1000.00",
        "job_hire": "1300.00",
        "successful_placement": "1500.00",
    },
    "pba_cap_per_consumer": "3800.00",
}
ADOPTED_AT = datetime(2026, 1, 1, tzinfo=UTC)
SEVEN = PolicyTable((*DEFAULT_POLICY.versions, version_from_row({**ROW, "retention_years": 7})))


def placed(on: str) -> EventData:
    return event("LegalHoldPlaced", placed_on=on, reason="Rivera v. State")


def lifted(on: str) -> EventData:
    return event("LegalHoldLifted", lifted_on=on, reason="settled")


def destroyed(on: str, years: int = 5) -> EventData:
    return event("CaseRecordsDestroyed", destroyed_on=on, rule="retention_after_closure", period_years=years)


def closed_case(*more: EventData, closed_on: str = "2015-06-30") -> list[EventData]:
    return [typed(case_opened("2014-01-02")), typed(case_closed(closed_on, outcome="unsuccessful")), *more]


def rule_of(
    history: list[EventData], proposed: EventData, policy: PolicyTable = DEFAULT_POLICY
) -> str | None:
    refusal = decide_case(replay(recorded(*history)), proposed, policy)
    return refusal.rule if refusal else None


def test_a_lift_ends_every_hold_open_on_its_date_and_needs_one() -> None:
    state = replay(
        recorded(*closed_case(placed("2016-01-01"), placed("2017-01-01"), lifted("2018-01-01")))
    ).retention
    assert state.holds == ((date(2016, 1, 1), date(2018, 1, 1)), (date(2017, 1, 1), date(2018, 1, 1)))
    assert not hold_in_force(state.holds, date(2026, 1, 1))
    assert rule_of(closed_case(placed("2016-01-01")), lifted("2015-12-31")) == "legal_hold_not_in_force"
    assert rule_of(closed_case(placed("2016-01-01")), lifted("2016-01-01")) is None
    assert rule_of(closed_case(), lifted("2016-01-01")) == "legal_hold_not_in_force"


def test_a_destruction_is_owed_only_after_the_period_without_a_hold_and_once() -> None:
    assert rule_of(closed_case(), destroyed("2026-12-07")) is None
    assert rule_of(closed_case(closed_on="2022-01-01"), destroyed("2026-12-07")) == "retention_not_due"
    assert rule_of([typed(case_opened("2014-01-02"))], destroyed("2026-12-07")) == "retention_not_due"
    assert rule_of(closed_case(), destroyed("2026-12-07", years=3)) == "retention_not_due"  # not the policy's
    assert rule_of(closed_case(placed("2020-01-01")), destroyed("2026-12-07")) == "legal_hold_in_force"
    assert rule_of(closed_case(destroyed("2025-01-01")), destroyed("2026-12-07")) == "case_records_destroyed"
    # the period is the policy's in force on the day of the destruction
    assert rule_of(closed_case(closed_on="2020-01-01"), destroyed("2026-12-07"), SEVEN) == "retention_not_due"
    assert rule_of(closed_case(), destroyed("2026-12-07", years=7), SEVEN) is None


def test_a_destroyed_case_takes_no_personal_value_but_still_takes_fiscal_ones() -> None:
    history = closed_case(destroyed("2026-12-07"))
    assert rule_of(history, placed("2026-12-08")) == "case_records_destroyed"
    assert rule_of(history, typed(employment_started("j2", "2015-01-01"))) == "case_records_destroyed"
    assert rule_of(history, event("PBAOpened", pba_id="p", provider_id="x", opened_on="2015-01-01")) is None
    facts = recorded(*history)
    assert decide_retraction(facts, typed(retracted(facts[1].event_id))).rule == "case_records_destroyed"


def test_retention_events_cannot_be_retracted() -> None:
    facts = recorded(*closed_case(placed("2016-01-01")))
    refusal = decide_retraction(facts, typed(retracted(facts[-1].event_id)))
    assert refusal is not None and refusal.rule == "retention_event_not_retractable"


def test_the_run_reads_the_same_facts_from_stored_rows_a_retracted_closure_not_counted() -> None:
    first, second = uuid4(), uuid4()
    rows = [
        {
            "event_id": str(first),
            "type": "CaseClosed",
            "data": {"closed_on": "2015-01-01", "outcome": "unsuccessful"},
        },
        {"event_id": str(uuid4()), "type": "EventRetracted", "data": {"retracted_event_id": str(first)}},
        {
            "event_id": str(second),
            "type": "CaseClosed",
            "data": {"closed_on": "2023-05-01", "outcome": "unsuccessful"},
        },
        {"event_id": str(uuid4()), "type": "LegalHoldPlaced", "data": {"placed_on": "2024-01-01"}},
        {"event_id": str(uuid4()), "type": "LegalHoldLifted", "data": {"lifted_on": "2024-02-01"}},
    ]
    facts = facts_of(rows)
    assert facts.closed_on == date(2023, 5, 1)
    assert facts.state.holds == ((date(2024, 1, 1), date(2024, 2, 1)),) and facts.state.destroyed_on is None


def test_a_snapshot_from_before_retention_still_loads() -> None:
    state = replay(recorded(*closed_case()))
    stored = orjson.loads(SNAPSHOT.dump_json(state))
    del stored["retention"]
    assert SNAPSHOT.validate_python(stored) == state


def test_the_retention_period_is_a_policy_number_with_a_default_of_five_years() -> None:
    assert (
        version_from_row(ROW).retention_years == 5 and DEFAULT_POLICY.retention_years(date(2026, 1, 1)) == 5
    )
    assert SEVEN.retention_years(date(1999, 12, 31)) == 5 and SEVEN.retention_years(date(2000, 1, 1)) == 7
    for bad in (0, 101, "5", True, 5.5):
        with pytest.raises(ValueError, match="retention_years"):
            version_from_row({**ROW, "retention_years": bad})
    assert version_record(version_from_row(ROW))["retention_years"] == 5


def test_versions_at_the_default_period_hash_as_before_the_field_existed() -> None:
    default, seven = version_from_row(ROW), version_from_row({**ROW, "retention_years": 7})
    before = {k: v for k, v in version_record(default).items() if k != "retention_years"}  # 0007's form
    assert hashed_record(default) == before and policy_version_record(default).keys() == before.keys()

    def chained(record: dict) -> str:
        return policy_hash("0" * 64, number=1, record=record, adopted_at=ADOPTED_AT, adopted_by="admin:k1")

    assert chained(hashed_record(default)) == chained(before)
    assert chained(hashed_record(seven)) != chained(before)  # a changed period is covered
    assert policy_version_record(seven)["retention_years"] == 7
