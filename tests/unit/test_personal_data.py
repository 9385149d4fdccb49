"""The list of personal fields: every event field is judged once, and what a fold keeps of a
sealed stream (snapshot, closure-clock row, ledger rows) holds no personal value."""

from __future__ import annotations

from uuid import UUID, uuid4

import orjson
import pytest

from app.domain.case import SNAPSHOT, replay
from app.domain.facts import Fact
from app.domain.personal_data import (
    OPERATIONAL_METADATA_KEYS,
    PERSONAL_FIELDS,
    is_personal_metadata_key,
    personal_fields,
    why_clear,
)
from app.domain.policy import DEFAULT_POLICY
from app.domain.sealing import (
    DESTROYED,
    blind_event,
    blind_event_data,
    new_data_key,
    seal_event_data,
)
from app.events import EVENT_TYPES, parse_event
from app.projections.closure_clock import clock_row
from app.projections.ledger import ledger_rows
from tests.given import recorded
from tests.unit.personal_samples import CASE_ID, PERSONAL_SAMPLES, contains_telltale


def test_every_field_of_every_event_type_is_judged_personal_or_clear_with_a_reason():
    unjudged = [
        f"{event_type}.{name}"
        for event_type, model in EVENT_TYPES.items()
        for name in model.model_fields
        if name not in personal_fields(event_type) and why_clear(event_type, name) is None
    ]
    assert unjudged == [], "add each to PERSONAL_FIELDS or CLEAR_FIELDS in app/domain/personal_data.py"


def test_no_field_is_both_personal_and_cleared_by_type():
    both = [
        f"{event_type}.{name}"
        for event_type, fields in PERSONAL_FIELDS.items()
        for name in fields
        if why_clear(event_type, name) is not None and f"{event_type}.{name}" != name
    ]
    assert both == []


def test_every_personal_field_names_a_field_of_its_event_type():
    for event_type, fields in PERSONAL_FIELDS.items():
        if event_type in EVENT_TYPES:
            assert set(fields) <= set(EVENT_TYPES[event_type].model_fields), event_type


def test_free_text_is_personal_while_dates_amounts_ids_and_the_pba_end_reason_stay_clear():
    assert set(personal_fields("EmploymentStarted")) == {"employer", "career_pathway"}
    for event_type in ("EmploymentEnded", "EmploymentFollowUpCancelled", "CaseClosed", "EventRetracted"):
        assert "reason" in personal_fields(event_type)
    assert personal_fields("PBAEnded") == {}
    assert "closed list" in (why_clear("PBAEnded", "reason") or "")
    for name in ("start_date", "hourly_wage", "amount", "provider_id", "soc_code", "job_id"):
        assert why_clear("EmploymentStarted", name) or why_clear("AuthorizationIssued", name)


def test_operational_metadata_stays_clear_and_every_other_key_is_personal():
    assert not any(is_personal_metadata_key(key) for key in OPERATIONAL_METADATA_KEYS)
    assert is_personal_metadata_key("note")
    assert is_personal_metadata_key("anything_a_client_adds")


@pytest.mark.parametrize("event_type", sorted(t for t in PERSONAL_FIELDS if t in EVENT_TYPES))
def test_the_destroyed_marker_is_valid_wherever_a_personal_field_is(event_type):
    """A response that re-validates an event after destruction still validates."""
    data = {**PERSONAL_SAMPLES[event_type], **dict.fromkeys(personal_fields(event_type), DESTROYED)}
    parsed = parse_event(event_type, data)
    assert all(getattr(parsed, name) == DESTROYED for name in personal_fields(event_type))


def _stream() -> list[tuple[str, dict]]:
    second_job = {**PERSONAL_SAMPLES["EmploymentStarted"], "job_id": "J2", "start_date": "2025-03-03"}
    return [
        (
            "CaseOpened",
            {"opened_on": "2024-12-02", "supported_employment": False, "ipe_service_categories": []},
        ),
        ("EmploymentStarted", PERSONAL_SAMPLES["EmploymentStarted"]),
        ("EmploymentEnded", PERSONAL_SAMPLES["EmploymentEnded"]),
        ("EmploymentFollowUpCancelled", PERSONAL_SAMPLES["EmploymentFollowUpCancelled"]),
        ("EmploymentStarted", second_job),
        ("PBAOpened", {"pba_id": "P1", "provider_id": "prov-1", "opened_on": "2025-03-04"}),
        ("PBAEnded", {"pba_id": "P1", "ended_on": "2025-04-01", "reason": "withdrawn"}),
        ("CaseClosed", PERSONAL_SAMPLES["CaseClosed"]),
    ]


def _sealed_facts() -> list[Fact]:
    """The stream as a fold reads it back from the store: sealed, then blinded, then parsed."""
    key, facts, ids = new_data_key(), [], [uuid4() for _ in range(9)]
    retraction = {**PERSONAL_SAMPLES["EventRetracted"], "retracted_event_id": str(ids[4])}
    for index, (event_type, data) in enumerate([*_stream(), ("EventRetracted", retraction)]):
        sealed, _ = seal_event_data(event_type, data, {}, CASE_ID, ids[index], key)
        blinded, _ = blind_event_data(event_type, sealed, {})
        facts += recorded(parse_event(event_type, blinded), first_version=index + 1, ids=[ids[index]])
    return facts


def test_a_fold_of_a_sealed_stream_keeps_no_personal_value_in_snapshot_or_read_models():
    state = replay(_sealed_facts())
    assert state.clock.closed is not None
    assert not contains_telltale(SNAPSHOT.dump_json(state))
    assert not contains_telltale(orjson.dumps(clock_row(state, DEFAULT_POLICY)))
    assert not contains_telltale(orjson.dumps(ledger_rows(state, DEFAULT_POLICY)))


def test_the_append_path_and_the_read_path_fold_the_same_blinded_event():
    """The append path blinds the validated event; a reader blinds the stored, sealed form."""
    event_id: UUID = uuid4()
    for event_type, data in _stream():
        sealed, _ = seal_event_data(event_type, data, {}, CASE_ID, event_id, new_data_key())
        from_store = parse_event(event_type, blind_event_data(event_type, sealed, {})[0])
        assert blind_event(parse_event(event_type, data)) == from_store
        stored_clear = parse_event(event_type, blind_event_data(event_type, data, {})[0])
        assert stored_clear == from_store  # an event stored before sealing folds alike
