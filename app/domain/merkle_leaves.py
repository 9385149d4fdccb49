"""What one leaf of the checkpoint tree commits to, encoded once.

A leaf is `kind (1 byte) || len(subject) (2 bytes, big-endian) || subject (UTF-8) ||
version (8 bytes, big-endian) || digest (32 bytes)`. Every field has a fixed width or a
length prefix, so no two different records encode to the same bytes (a case id cannot
swallow part of a version), and an auditor can rebuild the bytes in any language.

- `event` leaves: subject = case id, version = the event's version in its case,
  digest = the event's chain hash (which already covers every envelope field).
- `policy` leaves: subject = the policy table's id, version = the policy version's number,
  digest = SHA-256 of the version's canonical JSON (`policy_version_digest`), so the numbers
  a case was judged by are covered like its events.

Leaves are appended in feed (position) order; a policy version takes its place in that
order when it is recorded.
"""

from __future__ import annotations

import hashlib
from typing import Literal

import orjson

from app.domain.merkle import HASH_SIZE, leaf_hash
from app.domain.policy import DEFAULT_RETENTION_YEARS, PolicyVersion

LeafKind = Literal["event", "policy"]
LEAF_KIND_BYTE: dict[LeafKind, int] = {"event": 0x01, "policy": 0x02}
MAX_SUBJECT_BYTES = 0xFFFF


def leaf_bytes(kind: LeafKind, subject: str, version: int, digest: bytes) -> bytes:
    encoded = subject.encode()
    if len(encoded) > MAX_SUBJECT_BYTES:
        raise ValueError(f"a leaf subject is at most {MAX_SUBJECT_BYTES} bytes")
    if not 0 <= version < 1 << 64:
        raise ValueError(f"a leaf version is an unsigned 64-bit number, not {version}")
    if len(digest) != HASH_SIZE:
        raise ValueError(f"a leaf digest is {HASH_SIZE} bytes, not {len(digest)}")
    return (
        LEAF_KIND_BYTE[kind].to_bytes(1, "big")
        + len(encoded).to_bytes(2, "big")
        + encoded
        + version.to_bytes(8, "big")
        + digest
    )


def event_leaf(case_id: str, version: int, event_hash: str) -> bytes:
    """The leaf of one stored event; `event_hash` is the stored hex chain hash.

    The same bytes as `leaf_bytes("event", ...)`, built directly: `verify --checkpoints`
    builds one per stored event.
    """
    encoded, digest = case_id.encode(), bytes.fromhex(event_hash)
    if len(encoded) > MAX_SUBJECT_BYTES or len(digest) != HASH_SIZE or not 0 <= version < 1 << 64:
        return leaf_bytes("event", case_id, version, digest)  # raises, saying which field
    return b"\x01" + len(encoded).to_bytes(2, "big") + encoded + version.to_bytes(8, "big") + digest


def event_leaf_hash(case_id: str, version: int, event_hash: str) -> bytes:
    return leaf_hash(event_leaf(case_id, version, event_hash))


def policy_version_record(version: PolicyVersion) -> dict[str, object]:
    """The canonical JSON-ready form of a policy version (amounts as decimal text);
    `retention_years` only when not the default, so the leaves of versions adopted before
    it existed keep their digests (`app.domain.policy.hashed_record`)."""
    record: dict[str, object] = {
        "effective_from": version.effective_from.isoformat(),
        "closure_wait_days": version.closure_wait_days,
        "milestone_rates": {name: str(rate) for name, rate in sorted(version.milestone_rates.items())},
        "pba_cap_per_consumer": str(version.pba_cap_per_consumer),
    }
    if version.retention_years != DEFAULT_RETENTION_YEARS:
        record["retention_years"] = version.retention_years
    return record


def policy_version_digest(record: dict[str, object]) -> bytes:
    """SHA-256 of the sorted-key compact JSON of a policy version record."""
    return hashlib.sha256(orjson.dumps(record, option=orjson.OPT_SORT_KEYS)).digest()


def policy_leaf(policy_id: str, number: int, record: dict[str, object]) -> bytes:
    return leaf_bytes("policy", policy_id, number, policy_version_digest(record))
