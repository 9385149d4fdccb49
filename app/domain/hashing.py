"""The per-case hash chain and the one canonical form of what it hashes.

Each event's hash covers the previous hash and its own content: sorted-key JSON
of exactly what the store keeps, with `recorded_at` as a fixed-width UTC
timestamp, so `verify` recomputes the same bytes from the stored row and any
row changed behind the service's back shows.

"Exactly what the store keeps" needs one more step: PostgreSQL's jsonb stores
numbers as `numeric` and gives them back in its own spelling (`-0.0` comes back
as `0.0`, `1e16` as the integer `10000000000000000`). `canonical_json` rewrites a
value the way a jsonb round trip would, before it is hashed and before it is
stored, so a stored row read back hashes as it did when it was written. What
cannot round-trip (NaN, infinities) is refused with `NotCanonical`.

Every event hash, on the append path and in every verifier, is SHA-256 over the bytes of
`content_bytes`: the one encoder of the canonical form.
"""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson

GENESIS = "0" * 64
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # the canonical form, as first defined
# orjson reads an integer in this range back as an int, any other as a float.
_INT_READ_BACK = range(-(2**63), 2**64)


class NotCanonical(ValueError):
    """A JSON value that PostgreSQL could not store and give back unchanged."""


def canonical_json(value: Any) -> Any:
    """`value` as it reads back from a jsonb column: the form that is hashed and stored."""
    if isinstance(value, dict):
        return {key: canonical_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [canonical_json(item) for item in value]
    if isinstance(value, float):
        return _canonical_float(value)
    return value


def _canonical_float(number: float) -> float | int:
    """jsonb keeps the decimal text of the shortest repr and prints it without exponent."""
    if not math.isfinite(number):
        raise NotCanonical(f"{number!r} is not a JSON number")
    if number == 0:
        return 0.0  # numeric has no negative zero
    text = repr(number)
    if "e" in text and number.is_integer():
        whole = int(Decimal(text))  # 1e16 comes back as the integer 10000000000000000
        if whole in _INT_READ_BACK:
            return whole
    return number


def timestamp_text(moment: datetime) -> str:
    """UTC text with microseconds, `2025-01-06T14:03:07.000000Z`: what the hashes cover.

    The form was first defined as `strftime(TIMESTAMP_FORMAT)` of the UTC time; the same
    bytes built with `%` cost about a third as much (`verify --checkpoints` formats every
    stored event's time). glibc's `%Y` does not pad a year below 1000 to four digits and
    `%04d` does, so those years keep the original spelling (tests/unit/test_timestamp_text.py
    compares both over generated datetimes).
    """
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    if moment.year < 1000:
        return moment.strftime(TIMESTAMP_FORMAT)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ" % (  # noqa: UP031 (measured the fastest)
        moment.year,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
        moment.microsecond,
    )


def event_hash(
    previous_hash: str,
    *,
    case_id: str,
    version: int,
    event_id: UUID,
    type: str,
    schema_version: int,
    data: dict[str, Any],
    metadata: dict[str, Any],
    recorded_at: datetime,
) -> str:
    """SHA-256 of the previous hash and the event's canonical content.

    `data` and `metadata` must already be in `canonical_json` form (the append
    path stores that form; a row read from the store is in it by construction).
    """
    return chained_hash(
        previous_hash, case_id, version, event_id, type, schema_version, data, metadata, recorded_at
    )


def chained_hash(
    previous_hash: str,
    case_id: str,
    version: int,
    event_id: Any,
    type: str,
    schema_version: int,
    data: Any,
    metadata: Any,
    recorded_at: datetime,
) -> str:
    """`event_hash` with positional arguments."""
    content = content_bytes(
        case_id, version, str(event_id), type, schema_version, data, metadata, timestamp_text(recorded_at)
    )
    return hashlib.sha256(previous_hash.encode() + content).hexdigest()


def content_bytes(
    case_id: str,
    version: int,
    event_id: str,
    type: str,
    schema_version: int,
    data: Any,
    metadata: Any,
    recorded_at: str,
) -> bytes:
    """The canonical content: compact JSON of the event's fields, every object's keys sorted.

    The one encoder every hash of an event goes through. `data` and `metadata` are JSON
    values, or a value already spelled: `spelled(value)`, its sorted-key JSON, which goes
    in verbatim, so a caller holding a part's bytes need not spell it again
    (`StoredRowHasher` keeps the metadata's). `recorded_at` is the `timestamp_text`.
    tests/unit/test_hashing_parts.py holds both forms byte-equal to the sorted-key dump of
    the whole content over generated contents.
    """
    return orjson.dumps(
        {
            "case_id": case_id,
            "data": data,
            "event_id": event_id,
            "metadata": metadata,
            "recorded_at": recorded_at,
            "schema_version": schema_version,
            "type": type,
            "version": version,
        },
        option=orjson.OPT_SORT_KEYS,
    )


def spelled(value: Any) -> orjson.Fragment:
    """`value` as `content_bytes` would spell it, to be handed to it again as it is."""
    return orjson.Fragment(orjson.dumps(value, option=orjson.OPT_SORT_KEYS))


class StoredRowHasher:
    """`chained_hash` of events read back as text: the JSON as jsonb prints it, the time as
    `timestamp_text` (the store's verify queries spell it so), the event id as text.

    The content still comes from `content_bytes`; what this adds is memory of the
    metadata's spelling. A log's metadata repeats (the same actor and source on every
    event a client appends), so the `spelled` form of each distinct metadata text is
    kept, keyed by the text: a pure function of it, so a hit gives the
    bytes a parse and a dump would give. The caller owns the instance (one per verify
    pass); when full it starts over, so it holds at most `remembered` entries (each
    about twice its metadata's size: under a megabyte for metadata of a few hundred
    bytes). The data differs on every event and is not kept.
    """

    def __init__(self, remembered: int = 1024) -> None:
        self._metadata: dict[str, orjson.Fragment] = {}
        self._remembered = remembered

    def hash(
        self,
        previous_hash: str,
        case_id: str,
        version: int,
        event_id: str,
        type: str,
        schema_version: int,
        data: str,
        metadata: str,
        recorded_at: str,
    ) -> str:
        content = content_bytes(
            case_id,
            version,
            event_id,
            type,
            schema_version,
            orjson.loads(data),
            self._spelled_metadata(metadata),
            recorded_at,
        )
        return hashlib.sha256(previous_hash.encode() + content).hexdigest()

    def _spelled_metadata(self, text: str) -> orjson.Fragment:
        known = self._metadata.get(text)
        if known is None:
            known = spelled(orjson.loads(text))
            if len(self._metadata) >= self._remembered:
                # Start over rather than drop the oldest: dropping from a dict's front
                # leaves slots every later `next(iter(...))` walks past, which metadata
                # that never repeats (a correlation id per event) would pay on every event.
                self._metadata.clear()
            self._metadata[text] = known
        return known
