"""Policy versions as recorded history: their hash chain, and what an adoption moved.

Each adopted version is chained like a case's events (`app.domain.hashing`): its
hash is SHA-256 of the previous version's hash and the sorted-key JSON of its
number, canonical content (`hashed_record`: `retention_years` only when not the default, so
versions adopted before it existed keep their hashes), `adopted_at` (fixed-width UTC) and
`adopted_by`. So a version edited, removed or re-dated behind the service's back
shows when the chain is verified, and the `known_at` replays that depend on
`adopted_at` cannot be faked either.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import orjson

from app.domain.hashing import GENESIS, timestamp_text
from app.domain.policy import Adoption, PolicyTable, hashed_record


def policy_hash(
    previous_hash: str, *, number: int, record: dict[str, Any], adopted_at: datetime, adopted_by: str
) -> str:
    """SHA-256 of the previous hash and the version's canonical content (see module)."""
    content = orjson.dumps(
        {
            "number": number,
            "version": record,
            "adopted_at": timestamp_text(adopted_at),
            "adopted_by": adopted_by,
        },
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(previous_hash.encode() + content).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredVersion:
    """A row of `policy_versions` as stored: the adoption and the chain it claims."""

    adoption: Adoption
    previous_hash: str
    hash: str


def chain_hash(previous_hash: str, adoption: Adoption) -> str:
    return policy_hash(
        previous_hash,
        number=adoption.number,
        record=hashed_record(adoption.version),
        adopted_at=adoption.adopted_at,
        adopted_by=adoption.adopted_by,
    )


def chain_problems(stored: Sequence[StoredVersion]) -> list[str]:
    """What breaks the chain: a gap in the numbers, a link or a hash that does not recompute."""
    problems, previous = [], GENESIS
    for expected, row in enumerate(stored, start=1):
        number = row.adoption.number
        if number != expected:
            problems.append(f"policy version {expected} is missing (found {number})")
        if row.previous_hash != previous:
            problems.append(f"policy version {number} does not link to the version before it")
        if chain_hash(row.previous_hash, row.adoption) != row.hash:
            problems.append(f"policy version {number} does not hash to its stored hash")
        previous = row.hash
    return problems


def eligible_on_moves(start: date, policy: PolicyTable) -> tuple[str, ...]:
    """Sentences for the adoptions that moved the eligible date of a clock started on
    `start` (the clock had started when the version was adopted): old and new date, and
    which adoption. Nothing for a table without recorded history."""
    if len(policy.adoptions) < 2:
        return ()
    moves, before = [], policy.through(1).closure_wait_days(start)
    for count, adoption in enumerate(policy.adoptions[1:], start=2):
        after = policy.through(count).closure_wait_days(start)
        if after != before and start < adoption.adopted_at.date():
            moves.append(_moved(start, before, after, adoption))
        before = after
    return tuple(moves)


def _moved(start: date, before: int, after: int, adoption: Adoption) -> str:
    old, new = start + timedelta(days=before), start + timedelta(days=after)
    return (
        f"eligible_on moved from {old} to {new}: policy version {adoption.number} "
        f"(effective from {adoption.version.effective_from}, closure_wait_days {after}), "
        f"adopted at {timestamp_text(adoption.adopted_at)} by {adoption.adopted_by}, "
        f"changed the wait of a clock started on {start} from {before} to {after} days."
    )
