"""The content every event hash covers must stay the bytes it always was.

Each stored hash was computed over `orjson.dumps({...every field...}, option=OPT_SORT_KEYS)`,
the content dumped whole. `content_bytes` now takes parts a caller may hold already spelled
(`spelled`, what `StoredRowHasher` remembers of the metadata), and the verifier hands it the
JSON and the time as text: any byte of difference would make `verify` call an untouched row
broken, so each form is compared with the original dump over generated contents.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import orjson
from hypothesis import example, given
from hypothesis import strategies as st

from app.domain.hashing import (
    GENESIS,
    StoredRowHasher,
    chained_hash,
    content_bytes,
    event_hash,
    spelled,
    timestamp_text,
)

# Keys that sort in tricky ways: prefixes, case, "_" (0x5f) between upper and lower case,
# non-ASCII (sorted by code point, after every ASCII key), astral characters, the empty key.
TRICKY_KEYS = [
    "a",
    "a_b",
    "aB",
    "ab",
    "A",
    "B",
    "_",
    "a b",
    "",
    "é",
    "ß",
    "z",
    "日本",
    "\U0001f600",
    "10",
    "9",
]
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)  # orjson refuses surrogates
KEYS = st.sampled_from(TRICKY_KEYS) | TEXT
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=5),
    max_leaves=25,
)
OBJECTS = st.dictionaries(KEYS, JSON, max_size=6)
ZONES = st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=11))])


def original_content(content: dict[str, Any]) -> bytes:
    """The canonical form as first written: the whole content dumped with sorted keys."""
    whole = {
        **content,
        "event_id": str(content["event_id"]),
        "recorded_at": timestamp_text(content["recorded_at"]),
    }
    return orjson.dumps(whole, option=orjson.OPT_SORT_KEYS)


CONTENTS = st.fixed_dictionaries(
    {
        "case_id": TEXT,
        "version": st.integers(min_value=1, max_value=2**31 - 1),
        "event_id": st.uuids(),
        "type": TEXT,
        "schema_version": st.integers(min_value=1, max_value=2**31 - 1),
        "data": OBJECTS,
        "metadata": OBJECTS,
        "recorded_at": st.datetimes(
            min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=ZONES
        ),
    }
)
EMPTY = {
    "case_id": "",
    "version": 1,
    "event_id": UUID(int=0),
    "type": "",
    "schema_version": 1,
    "data": {},
    "metadata": {"": [], "a": {}, "aB": [[], {}], "a_b": -0.0},
    "recorded_at": datetime(2025, 1, 6, 14, 3, 7, tzinfo=UTC),
}


FIELDS = ("case_id", "version", "event_id", "type", "schema_version", "data", "metadata", "recorded_at")


def parts(content: dict[str, Any]) -> tuple[Any, ...]:
    c = content
    return (c["case_id"], c["version"], str(c["event_id"]), c["type"], c["schema_version"])


@given(CONTENTS)
@example(EMPTY)
def test_the_parts_give_the_bytes_of_the_whole_dump(content: dict[str, Any]) -> None:
    expected = original_content(content)
    at = timestamp_text(content["recorded_at"])
    assert content_bytes(*parts(content), content["data"], content["metadata"], at) == expected
    already = spelled(content["data"]), spelled(content["metadata"])
    assert content_bytes(*parts(content), *already, at) == expected


@given(CONTENTS)
@example(EMPTY)
def test_a_row_read_back_as_text_hashes_as_the_event_did(content: dict[str, Any]) -> None:
    """As the verifier reads a row: jsonb's spelling of the JSON (keys in its own order,
    spaces), the event id and the time as text; the previous hash chained as ever."""
    previous = hashlib.sha256(b"before").hexdigest()
    expected = hashlib.sha256(previous.encode() + original_content(content)).hexdigest()
    assert event_hash(previous, **content) == expected
    assert chained_hash(previous, *(content[k] for k in FIELDS)) == expected
    data, metadata = (as_jsonb_prints(content[k]) for k in ("data", "metadata"))
    row = (*parts(content), data, metadata, timestamp_text(content["recorded_at"]))
    hasher = StoredRowHasher(remembered=1)
    assert hasher.hash(previous, *row) == expected
    assert hasher.hash(previous, *row) == expected  # the metadata's spelling remembered


def as_jsonb_prints(value: dict[str, Any]) -> str:
    """Not orjson's spelling: keys by length then bytes, as jsonb orders them, spaced out."""
    return json.dumps(jsonb_ordered(value), ensure_ascii=False, separators=(", ", ": "))


def jsonb_ordered(value: Any) -> Any:
    if isinstance(value, dict):
        keys = sorted(value, key=lambda key: (len(key.encode()), key.encode()))
        return {key: jsonb_ordered(value[key]) for key in keys}
    if isinstance(value, list):
        return [jsonb_ordered(item) for item in value]
    return value


def test_metadata_beyond_what_is_remembered_still_hashes_right() -> None:
    """The hasher keeps two spellings here; the third, fourth... start it over, and the
    forgotten ones come back right when they recur."""
    hasher = StoredRowHasher(remembered=2)
    at = datetime(2025, 1, 6, tzinfo=UTC)
    for round_ in range(2):
        for n in range(5):
            metadata = {"actor": f"client:{n}", "n": n}
            content = {**EMPTY, "metadata": metadata, "recorded_at": at}
            row = (*parts(content), "{}", json.dumps(metadata), timestamp_text(at))
            assert hasher.hash(GENESIS, *row) == event_hash(GENESIS, **content), (round_, n)


def test_the_hashes_stored_before_this_encoder_are_still_given() -> None:
    """Two chained hashes computed by the whole-dump encoder (the tree at 23b593b), pinned:
    unicode, nested keys that sort in tricky ways, an offset, a three-digit year, empty JSON."""
    data = {
        "opened_on": "2025-03-01",
        "amount": 1.5,
        "nested": {"b": 1, "aB": [2, 0.5], "a_b": None, "é": {}},
    }
    first = event_hash(
        GENESIS,
        case_id="case-é",
        version=1,
        event_id=UUID("12345678-1234-5678-1234-567812345678"),
        type="CaseOpened",
        schema_version=1,
        data=data,
        metadata={"source": "test", "actor": "case_system:k1"},
        recorded_at=datetime(2025, 3, 4, 5, 6, 7, tzinfo=timezone(timedelta(hours=2))),
    )
    assert first == "34e73ab4becd0bdbbbb8059c5492422ec54c078d9b0520b1fe5936ed567642bd"
    second = event_hash(
        first,
        case_id="case-é",
        version=2,
        event_id=UUID("12345678-1234-5678-1234-567812345679"),
        type="PaymentRecorded",
        schema_version=2,
        data={},
        metadata={},
        recorded_at=datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
    )
    assert second == "228e9d3fe5bc405336fa7cabe79ff25864e66f71fee1fb885847b943df310b7b"
