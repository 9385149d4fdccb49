"""The verifier's per-row loops give what the one definition of each hash gives.

`matching_run` builds event leaves inline and `recomputed_hashes` hashes stored rows with
their JSON and time as text; an untouched log must verify, so both must agree byte for byte with
`event_leaf`/`leaf_hash` and `event_hash`, and stop or say None exactly where the general
rules take over.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from uuid import UUID

import orjson

from app.domain.audit_rows import matching_run, recomputed_hashes
from app.domain.hashing import GENESIS, StoredRowHasher, event_hash, timestamp_text
from app.domain.merkle import leaf_hash
from app.domain.merkle_leaves import event_leaf

AT = datetime(2025, 3, 4, 5, 6, 7, 890, tzinfo=UTC)
DATA = {"opened_on": "2025-03-01", "amount": 1.5, "nested": {"b": 1, "a": [2, 0.5]}}  # keys unsorted


def stored_row(case_id: str, version: int, previous: str, position: int) -> tuple[object, ...]:
    """An event row as the store's verify query gives it (hash fourth, JSON, id and time as
    text, the JSON as jsonb prints it: a space after each colon and comma, keys unsorted)."""
    event_id = UUID(int=position)
    data = orjson.loads(orjson.dumps(DATA))
    metadata = {"actor": "case_system:k1", "source": "test"}
    stored = event_hash(
        previous,
        case_id=case_id,
        version=version,
        event_id=event_id,
        type="CaseOpened",
        schema_version=1,
        data=data,
        metadata=metadata,
        recorded_at=AT,
    )
    return (
        position,
        case_id,
        version,
        stored,
        str(event_id),
        "CaseOpened",
        1,
        as_jsonb_prints(data),
        as_jsonb_prints(metadata),
        timestamp_text(AT),
    )


def as_jsonb_prints(value: dict[str, object]) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def test_recomputed_hashes_are_the_event_hashes_and_none_without_a_predecessor() -> None:
    first = stored_row("case-é", 1, GENESIS, 10)
    second = stored_row("case-é", 2, str(first[3]), 11)
    hasher = StoredRowHasher()
    assert recomputed_hashes([first, second], [None, first[3]], hasher) == [first[3], second[3]]
    assert recomputed_hashes([second], [None], hasher) == [None]  # version 2 with its predecessor gone
    assert recomputed_hashes([second], ["f" * 64], hasher) != [second[3]]


def test_the_matching_run_builds_each_event_leaf_and_stops_at_the_first_difference() -> None:
    events = [stored_row(f"case-{n}", 1, GENESIS, 100 + n) for n in range(4)]
    hashes = [str(e[3]) for e in events]
    leaves = [(n, "event", e[1], e[2], bytes.fromhex(str(e[3])), e[0]) for n, e in enumerate(events)]
    leaves[2] = (2, "event", "case-2", 1, bytes(32), 102)  # a recorded digest that differs
    out: list[bytes] = []
    assert matching_run(leaves, 0, events, 0, hashes, out) == 2
    assert out == [leaf_hash(event_leaf(str(e[1]), 1, str(e[3]))) for e in events[:2]]
    assert matching_run(leaves, 3, events, 3, hashes, out) == 1
    assert matching_run(leaves, 0, events, 0, [None, *hashes[1:]], []) == 0  # no predecessor
    assert matching_run([(0, "policy", "default", 1, bytes(32), 100)], 0, events, 0, hashes, []) == 0
