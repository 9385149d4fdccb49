"""The access record's chain and the case ids read from a page (issue 13, item 1)."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import orjson

from app.domain.access_records import GENESIS, AccessRecord, access_hash, case_ids_in, chain, chained
from app.domain.hashing import timestamp_text

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


def _reference_hash(previous_hash: str, record: AccessRecord) -> str:
    """The chain's definition: sha256 of the previous hash and the sorted-key JSON of the
    record's fields, the time as `timestamp_text` writes it."""
    content = {
        "at": timestamp_text(record.at),
        "key_id": record.key_id,
        "role": record.role,
        "provider_id": record.provider_id,
        "client": record.client,
        "case_ids": list(record.case_ids),
        "endpoint": record.endpoint,
        "request_id": record.request_id,
        "status": record.status,
    }
    return hashlib.sha256(
        previous_hash.encode() + orjson.dumps(content, option=orjson.OPT_SORT_KEYS)
    ).hexdigest()


def test_the_fast_encoding_hashes_what_the_chain_defines() -> None:
    moments = (
        datetime(2026, 12, 7, 12, 0, 0, 123456, tzinfo=UTC),
        datetime(2026, 12, 7, 12, 0, 0, 0, tzinfo=UTC),  # a zero fraction is still written
        datetime(2026, 12, 7, 7, 0, 0, 1, tzinfo=timezone(timedelta(hours=-5))),
    )
    for at in moments:
        record = replace(READ, at=at, provider_id="p-1", case_ids=("case-1", "case-2"))
        assert access_hash(GENESIS, record) == _reference_hash(GENESIS, record)
        assert orjson.loads(record.canonical())["at"] == timestamp_text(at)


def test_the_stored_rows_carry_the_chain_they_continue() -> None:
    records = [READ, replace(READ, case_ids=("case-2",), status=403)]
    rows, head = chained(GENESIS, [r.canonical() for r in records])
    stored = orjson.loads(rows)
    expected = list(chain(GENESIS, records))
    assert [(r["previous_hash"], r["hash"]) for r in stored] == [(e.previous_hash, e.hash) for e in expected]
    assert head == expected[-1].hash
    assert stored[1]["case_ids"] == ["case-2"] and stored[1]["status"] == 403
