"""A stored payload read back without validating it again (`app.ops.rebuild_facts`) is the
event the schema check gives: rebuilds and imports fold exactly what the service folds."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from app.domain.case import SNAPSHOT, replay
from app.domain.facts import Fact
from app.domain.hashing import canonical_json
from app.domain.sealing import blind_sealed_data, seal_event_data
from app.events.registry import EVENT_TYPES, parse_event
from app.ops.rebuild_facts import stored_event, stored_fact
from tests.builders import (
    authorization,
    case_opened,
    employment_started,
    ipe_amended,
    job_hire,
    milestone_authorization,
    paid,
    plan_signed,
    successful_placement,
)
from tests.unit.personal_samples import PERSONAL_SAMPLES

_MORE: list[dict[str, Any]] = [
    case_opened(),
    ipe_amended("2024-02-01", added=("benefits",), supported_employment=True, accepts_job_id="J1"),
    employment_started(),
    {"type": "EmploymentStarted", "data": {**PERSONAL_SAMPLES["EmploymentStarted"], "hours_per_week": 37.5}},
    authorization("auth-1", "2024-02-01", "2024-03-01", post_employment=True, issued_on="2024-01-20"),
    milestone_authorization("auth-2", "pba-1", "job_hire", provider="prov-1"),
    paid("auth-1", "2024-03-01"),
    paid("auth-1", "2024-03-02", "12.5", in_full=False),
    {"type": "AuthorizationCancelled", "data": {"authorization_id": "auth-1", "cancelled_on": "2024-04-01"}},
    {"type": "M4Ended", "data": {"end_date": "2024-05-01", "authorization_id": "auth-1"}},
    {"type": "PBAOpened", "data": {"pba_id": "pba-1", "provider_id": "prov-1", "opened_on": "2024-01-05"}},
    plan_signed("pba-1", "auth-3"),
    job_hire("pba-1", "auth-2", first_paid_shift_on="2024-02-03"),
    successful_placement("pba-1", "auth-4", "2024-09-01"),
    {"type": "PBAEnded", "data": {"pba_id": "pba-1", "ended_on": "2024-10-01", "reason": "completed"}},
    {
        "type": "CaseRecordsDestroyed",
        "data": {"destroyed_on": "2031-01-02", "rule": "closed-plus-6", "period_years": 6},
    },
]
PAYLOADS = [{"type": t, "data": d} for t, d in PERSONAL_SAMPLES.items()] + _MORE


def _as_stored(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as the append path stores it: schema-checked, normalised, canonical."""
    return canonical_json(parse_event(payload["type"], payload["data"]).to_json_dict())


def test_every_event_type_is_covered() -> None:
    assert {p["type"] for p in PAYLOADS} == set(EVENT_TYPES)


@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda p: p["type"])
def test_a_stored_payload_reads_back_as_the_schema_check_gives_it(payload: dict[str, Any]) -> None:
    kind, stored = payload["type"], _as_stored(payload)
    model = EVENT_TYPES[kind]
    trusted, checked = stored_event(kind, stored, model.SCHEMA_VERSION), parse_event(kind, stored)
    assert trusted == checked
    assert repr(trusted) == repr(checked)  # the same field values of the same types
    assert trusted.model_fields_set == checked.model_fields_set
    assert trusted.model_dump_json() == checked.model_dump_json()


@pytest.mark.parametrize("kind", sorted(PERSONAL_SAMPLES))
def test_a_sealed_value_reads_as_sealed_as_the_folds_see_it(kind: str) -> None:
    sealed, _ = seal_event_data(kind, _as_stored({"type": kind, "data": PERSONAL_SAMPLES[kind]}), {}, "c-1",
                                uuid.uuid4(), bytes(32))  # fmt: skip
    trusted = stored_event(kind, sealed, EVENT_TYPES[kind].SCHEMA_VERSION)
    assert trusted == parse_event(kind, blind_sealed_data(kind, sealed))
    assert "[sealed]" in trusted.model_dump_json()


def test_what_is_not_the_stores_own_form_is_validated_as_ever() -> None:
    wage_in_cents = {k: v for k, v in _as_stored(employment_started()).items() if k != "hourly_wage"}
    older = stored_event("EmploymentStarted", {**wage_in_cents, "hourly_wage_cents": 1725}, 1)
    assert older == parse_event("EmploymentStarted", {**wage_in_cents, "hourly_wage_cents": 1725}, 1)
    opened = _as_stored(case_opened())
    for broken in (
        {**opened, "unknown": 1},  # a field the model does not have
        {**opened, "opened_on": None},  # the store never writes a null
        {**opened, "opened_on": 20240101},  # not the date's text
        {k: v for k, v in opened.items() if k != "opened_on"},  # a required field missing
    ):
        with pytest.raises(ValidationError):
            stored_event("CaseOpened", broken, 1)


def test_a_stored_fact_carries_its_payload_and_the_clock_log_stores_it_as_the_event_dumps() -> None:
    """The rebuild's facts keep the stored payload (sealed values "[sealed]"), so a snapshot
    stores it as it is instead of encoding each logged event again: the same bytes as a fold
    of the parsed events, and an older form is not kept."""
    when = datetime(2024, 1, 1, tzinfo=UTC)
    sealed, _ = seal_event_data("EmploymentStarted", _as_stored(employment_started()), {}, "c-1",
                                uuid.uuid4(), bytes(32))  # fmt: skip
    rows = [("CaseOpened", _as_stored(case_opened())), ("EmploymentStarted", sealed)]
    ids = [uuid.uuid4() for _ in rows]
    stored = [stored_fact(i, n, when, kind, 1 if n == 1 else 2, data) for n, (i, (kind, data)) in
              enumerate(zip(ids, rows, strict=True), 1)]  # fmt: skip
    parsed = [Fact(f.event_id, f.version, when, f.data) for f in stored]
    assert stored[1].stored == blind_sealed_data("EmploymentStarted", sealed)
    assert SNAPSHOT.dump_json(replay(stored)) == SNAPSHOT.dump_json(replay(parsed))
    cents = {k: v for k, v in _as_stored(employment_started()).items() if k != "hourly_wage"}
    older = {**cents, "hourly_wage_cents": 1725}  # schema version 1: upcast, not kept
    assert stored_fact(ids[1], 2, when, "EmploymentStarted", 1, older).stored is None
