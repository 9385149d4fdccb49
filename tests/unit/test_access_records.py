"""The access record's chain and the case ids read from a page (issue 13, item 1)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import orjson

from app.domain.access_records import GENESIS, AccessRecord, access_hash, case_ids_in, chain

READ = AccessRecord(
    at=datetime(2026, 12, 7, 12, 0, tzinfo=UTC),
    key_id="k1",
    role="auditor",
    provider_id=None,
    client="10.0.0.7",
    case_ids=("case-1",),
    endpoint="GET /cases/{case_id}/closure-clock",
    request_id="r1",
    status=200,
)


def test_each_record_continues_the_chain_and_a_changed_field_breaks_it() -> None:
    first, second = chain(GENESIS, [READ, replace(READ, case_ids=("case-2",))])
    assert first.previous_hash == GENESIS and second.previous_hash == first.hash
    assert access_hash(GENESIS, replace(first, key_id="k2")) != first.hash
    assert access_hash(GENESIS, replace(first, status=403)) != first.hash


def test_a_page_names_each_of_its_cases_once() -> None:
    page = {"events": [{"case_id": "a"}, {"case_id": "b"}, {"case_id": "a"}], "next": {"case_id": "c"}}
    assert set(case_ids_in(orjson.dumps(page))) == {"a", "b", "c"}
    assert case_ids_in(b"<html>") == ()
