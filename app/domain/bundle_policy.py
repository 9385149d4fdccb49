"""The policy part of the offline case bundle: which versions it carries, and the table they make.

The service answers with its policy as recorded history (docs/policy.md): every adoption,
replaced ones too, since a claim is priced by the table known when it was recorded and
adjusted by each later adoption that changed it, and the clock's explanation names the
adoption that moved its date. So the bundle carries every adoption under the number its
checkpoint leaf has (the adoption number, `app.service.checkpointing.policy_leaf_rows`), not
its place in the table of effective dates: two adoptions on the same effective date (a rate
corrected the same day) are two entries, and the replay takes "the first k adoptions"
exactly as the service does.
"""

from __future__ import annotations

from datetime import datetime
from itertools import pairwise
from typing import Any

from app.domain.hashing import timestamp_text
from app.domain.merkle_leaves import policy_version_record
from app.domain.policy import Adoption, PolicyTable, version_from_row


def policy_entries(policy: PolicyTable) -> list[dict[str, Any]]:
    """The versions a bundle carries, numbered as `app.service.checkpointing.policy_leaf_rows`
    numbers their leaves: each adoption with when and by whom (what the ledger's adjustments
    and the clock's explanation name), or, for a table without recorded history, each
    version by its position."""
    if not policy.adoptions:
        return [
            {"number": number, "record": policy_version_record(version)}
            for number, version in enumerate(policy.versions, start=1)
        ]
    return [
        {
            "number": adoption.number,
            "record": policy_version_record(adoption.version),
            "adopted_at": timestamp_text(adoption.adopted_at),
            "adopted_by": adoption.adopted_by,
        }
        for adoption in policy.adoptions
    ]


def policy_table(entries: list[dict[str, Any]]) -> PolicyTable:
    """The table the bundled versions make (ValueError when they make none): recorded history
    when they carry adoption times, as the service's own table does."""
    versions = [version_from_row(entry["record"]) for entry in entries]
    if not any("adopted_at" in entry for entry in entries):
        return PolicyTable(tuple(versions))
    return PolicyTable.from_adoptions(
        tuple(
            Adoption(_number(entry["number"]), _utc(entry["adopted_at"]), str(entry["adopted_by"]), version)
            for entry, version in zip(entries, versions, strict=True)
        )
    )


def _number(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"a policy version's number is a whole number, not {value!r}")
    return value


def _utc(text: Any) -> datetime:
    moment = datetime.fromisoformat(str(text))
    if moment.utcoffset() is None:
        raise ValueError(f"adopted_at {text!r} has no time zone")
    return moment


def order_problem(entries: list[dict[str, Any]], table: PolicyTable) -> str | None:
    """Why the versions cannot stand for the history (None: they can): numbered 1 to n and
    adopted in that order, or the replay's "first k adoptions" would be other versions."""
    numbers = [entry["number"] for entry in entries]
    if numbers != list(range(1, len(numbers) + 1)):
        return f"numbered {numbers}, not 1 to {len(numbers)}: a version is missing or out of place"
    if any(later.adopted_at <= earlier.adopted_at for earlier, later in pairwise(table.adoptions)):
        return "the adoption times do not increase with the numbers"
    return None
