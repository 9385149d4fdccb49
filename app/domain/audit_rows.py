"""The rows `verify --checkpoints` reads, and what is computed from each in bulk.

An event row starts (position, case_id, version, hash) and, read whole, goes on with
(event_id, type, schema_version, data, metadata, recorded_at), the JSON, the id and the
time as text; a recorded leaf row is (leaf_index, kind, subject, version, digest, position). The
store's queries give them so (`app.store.merkle`); the loops here run once per stored
event and unpack them by place, and `named_event` / `named_leaf` give the rare row that
needs explaining to `app.domain.tree_audit` by name.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from app.domain.hashing import GENESIS, StoredRowHasher
from app.domain.merkle import leaf_hash
from app.domain.merkle_leaves import MAX_SUBJECT_BYTES, leaf_bytes

Row = Mapping[str, Any]
EVENT_HEAD = ("position", "case_id", "version", "hash")
LEAF_ROW = ("leaf_index", "kind", "subject", "version", "digest", "position")


def recomputed_hashes(
    events: Sequence[Sequence[Any]], previous: Sequence[str | None], hasher: StoredRowHasher
) -> list[str | None]:
    """Each event's hash from its stored content, given its predecessor's stored hash (None
    when that version is missing, and so the result). Rows are (position, case_id, version,
    hash, event_id, type, schema_version, data, metadata, recorded_at), the event id, the
    JSON and the time as text (`StoredRowHasher`); `hasher` is the caller's, one a pass."""
    out: list[str | None] = []
    append, hash_row = out.append, hasher.hash
    for event, before in zip(events, previous, strict=True):
        _, case_id, version, _, event_id, type_, schema_version, data, metadata, recorded_at = event
        if version == 1:
            before = GENESIS
        if before is None:
            append(None)
            continue
        append(
            hash_row(before, case_id, version, event_id, type_, schema_version, data, metadata, recorded_at)
        )
    return out


def matching_run(
    stored: Sequence[Sequence[Any]],
    s: int,
    events: Sequence[Sequence[Any]],
    e: int,
    hashes: Sequence[str | None],
    out: list[bytes],
) -> int:
    """How many rows from `stored[s]` and `events[e]` on are the untouched case (recorded leaf
    and event at the same place, same case, version and digest, the event's content giving
    its stored hash); their leaf hashes are appended to `out`."""
    count, sha256 = min(len(stored) - s, len(events) - e), hashlib.sha256
    taken = 0
    while taken < count:
        _, kind, subject, version, digest, position = stored[s + taken]
        event = events[e + taken]
        current = hashes[e + taken]
        if (
            position != event[0]
            or subject != event[1]
            or version != event[2]
            or current != event[3]
            or kind != "event"
            or digest.hex() != current
        ):
            return taken
        encoded = subject.encode()
        if len(encoded) > MAX_SUBJECT_BYTES:
            return taken
        # leaf_hash(event_leaf(...)) inline (tests/unit/test_audit_rows.py holds them equal)
        out.append(
            sha256(
                b"\x00\x01" + len(encoded).to_bytes(2, "big") + encoded + version.to_bytes(8, "big") + digest
            ).digest()
        )
        taken += 1
    return taken


def named_event(event: Sequence[Any]) -> Row:
    return dict(zip(EVENT_HEAD, event[:4], strict=True))


def named_leaf(stored: Sequence[Any] | None) -> Row:
    assert stored is not None
    return dict(zip(LEAF_ROW, stored, strict=True))


def same_leaf(recorded: Row, event: Row, current: str) -> bool:
    return (
        recorded["version"] == event["version"]
        and recorded["subject"] == event["case_id"]
        and bytes(recorded["digest"]) == bytes.fromhex(current)
    )


def stored_leaf_hash(stored: Row) -> bytes:
    """Recomputed from the recorded fields (the leaf_hash column is not trusted)."""
    return leaf_hash(
        leaf_bytes(stored["kind"], stored["subject"], stored["version"], bytes(stored["digest"]))
    )
