"""The append route's fast path reads only bodies `AppendIn` accepts as they stand."""

from __future__ import annotations

from uuid import UUID

import orjson
import pytest
from pydantic import ValidationError

from app.service.validate import Proposed
from app.web.routes.events import AppendIn, proposed_of

OPENED = {"type": "CaseOpened", "data": {"opened_on": "2024-01-02"}}
ID = "12345678-1234-5678-1234-56781234567A"

ACCEPTED = [
    {"events": [OPENED]},
    {"expected_version": 0, "events": [OPENED]},
    {"expected_version": None, "events": [OPENED, OPENED]},
    {"events": [{**OPENED, "event_id": ID, "metadata": {"source": "x", "actor": "me"}}]},
    {"events": [{**OPENED, "event_id": None, "metadata": None}]},
    {"events": [{"type": "x" * 64, "data": {}}]},
    {"events": [OPENED] * 1000},
]
LEFT_TO_FASTAPI = [
    b"",
    b"{",
    b"null",
    b"[]",
    b'{"events": [{"type": "CaseOpened", "data": {"x": NaN}}]}',
    b'{"events": [{"type": "CaseOpened", "data": {"x": "\\ud800"}}]}',
    b"\x80abc",
    orjson.dumps({"events": []}),
    orjson.dumps({"events": [OPENED] * 1001}),
    orjson.dumps({"events": None}),
    orjson.dumps({}),
    orjson.dumps({"events": [OPENED], "dry_run": True}),
    orjson.dumps({"expected_version": "0", "events": [OPENED]}),
    orjson.dumps({"expected_version": False, "events": [OPENED]}),
    orjson.dumps({"expected_version": 1.0, "events": [OPENED]}),
    orjson.dumps({"expected_version": -1, "events": [OPENED]}),
    orjson.dumps({"events": [{**OPENED, "when": 1}]}),
    orjson.dumps({"events": [{"type": "", "data": {}}]}),
    orjson.dumps({"events": [{"type": "x" * 65, "data": {}}]}),
    orjson.dumps({"events": [{"type": 5, "data": {}}]}),
    orjson.dumps({"events": [{"type": "CaseOpened"}]}),
    orjson.dumps({"events": [{"type": "CaseOpened", "data": []}]}),
    orjson.dumps({"events": [{**OPENED, "metadata": []}]}),
    orjson.dumps({"events": [{**OPENED, "event_id": "a" * 32}]}),
    orjson.dumps({"events": [{**OPENED, "event_id": "{" + ID + "}"}]}),
    orjson.dumps({"events": [{**OPENED, "event_id": "not-a-uuid"}]}),
    orjson.dumps({"events": [{**OPENED, "event_id": 5}]}),
    orjson.dumps({"events": [5]}),
]


@pytest.mark.parametrize("body", ACCEPTED)
def test_what_the_fast_path_reads_is_what_appendin_gives(body: dict) -> None:
    raw = orjson.dumps(body)
    parsed = proposed_of(raw)
    assert parsed is not None
    model = AppendIn.model_validate_json(raw)
    assert parsed[0] == model.expected_version
    assert parsed[1] == [Proposed(e.type, e.data, e.event_id, e.metadata or {}) for e in model.events]


@pytest.mark.parametrize("body", LEFT_TO_FASTAPI)
def test_anything_else_is_left_to_fastapi(body: bytes) -> None:
    assert proposed_of(body) is None


def test_event_ids_become_uuids() -> None:
    parsed = proposed_of(orjson.dumps({"events": [{**OPENED, "event_id": ID}]}))
    assert parsed is not None and parsed[1][0].event_id == UUID(ID)


def test_appendin_refuses_what_the_fast_path_refuses_for_shape() -> None:
    """The fast path never accepts a body the model refuses (spot check of the strict cases)."""
    for body in (LEFT_TO_FASTAPI[7], LEFT_TO_FASTAPI[11], LEFT_TO_FASTAPI[17]):
        with pytest.raises(ValidationError):
            AppendIn.model_validate_json(body)
