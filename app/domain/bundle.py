"""The offline case bundle: one JSON file an auditor checks with the public key alone.

    {"format": "caseledger.case-bundle.v2", "case_id": ...,
     "checkpoint": "<signed checkpoint note>",
     "events": [{every stored envelope field and "hash" (StoredEvent.to_json()),
                 "leaf_index": n, "inclusion_proof": ["<base64>", ...]}, ...],
     "policy": {"policy_id": ..., "versions": [{"number": n, "record": {...}, "adopted_at": "...Z",
                 "adopted_by": ..., "leaf_index": n, "inclusion_proof": [...]}, ...]}}

`verify_bundle` trusts nothing in the file but the checkpoint's signature: it recomputes
every event's hash chain from the genesis hash, every leaf, and every inclusion proof against
the signed root, and lists each failure (not only the first). `bundle_case_state` then folds
the same events with the same rules (`replay`) and the bundled policy versions, so the clock
and ledger an auditor computes are the service's answers.

The policy is the recorded history (docs/policy.md): every adoption under its adoption
number, as the checkpoint's policy leaves number them (`app.domain.bundle_policy` says why).
A leaf covers a version's number and record; its `adopted_at` and `adopted_by` are covered
by the policy's own hash chain (`caseledger policy verify`), not by the checkpoint. v2 is
this form; a v1 file (versions numbered by position, no adoption times) is still read.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson

from app.domain.bundle_policy import order_problem, policy_table
from app.domain.case import CaseState, replay
from app.domain.checkpoint import Checkpoint, CheckpointError, Verifier, verify_signed_checkpoint
from app.domain.facts import Fact
from app.domain.hashing import GENESIS, event_hash
from app.domain.merkle import leaf_hash, verify_inclusion
from app.domain.merkle_leaves import event_leaf, policy_leaf
from app.domain.policy import PolicyTable
from app.domain.sealing import blind_sealed_data
from app.events.registry import parse_event

BUNDLE_FORMAT = "caseledger.case-bundle.v2"
READABLE_FORMATS = ("caseledger.case-bundle.v1", BUNDLE_FORMAT)


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing in a bundle that does not hold; `code` is stable, `where` names the record."""

    code: str
    where: str
    detail: str


def encode_proof(proof: list[bytes]) -> list[str]:
    return [base64.b64encode(p).decode() for p in proof]


def build_bundle(
    case_id: str,
    signed_checkpoint: str,
    events: list[dict[str, Any]],
    policy_id: str,
    policy_versions: list[dict[str, Any]],
) -> bytes:
    """The file: `events` are StoredEvent.to_json() with leaf_index and inclusion_proof added;
    `policy_versions` are `app.domain.bundle_policy.policy_entries` with them added."""
    document = {
        "format": BUNDLE_FORMAT,
        "case_id": case_id,
        "checkpoint": signed_checkpoint,
        "events": events,
        "policy": {"policy_id": policy_id, "versions": policy_versions},
    }
    return orjson.dumps(document, option=orjson.OPT_INDENT_2)


def _proven(leaf: bytes, entry: dict[str, Any], checkpoint: Checkpoint) -> bool:
    try:
        proof = [base64.b64decode(p, validate=True) for p in entry["inclusion_proof"]]
    except (binascii.Error, TypeError, ValueError):
        return False
    index = entry["leaf_index"]
    return isinstance(index, int) and verify_inclusion(
        leaf_hash(leaf), index, checkpoint.tree_size, proof, checkpoint.root_hash
    )


def _event_findings(case_id: str, events: list[dict[str, Any]], checkpoint: Checkpoint) -> list[Finding]:
    findings: list[Finding] = []
    previous_hash, previous_index = GENESIS, -1
    for expected_version, event in enumerate(events, start=1):
        where = f"version {event.get('version')}"
        try:
            recomputed = event_hash(
                previous_hash,
                case_id=event["case_id"],
                version=event["version"],
                event_id=UUID(event["event_id"]),
                type=event["type"],
                schema_version=event["schema_version"],
                data=event["data"],
                metadata=event["metadata"],
                recorded_at=datetime.fromisoformat(event["recorded_at"]),
            )
            leaf = event_leaf(event["case_id"], event["version"], event["hash"])
        except (KeyError, TypeError, ValueError) as error:
            findings.append(Finding("malformed_event", where, f"missing or invalid field: {error}"))
            return findings
        if event["case_id"] != case_id or event["version"] != expected_version:
            findings.append(Finding("events_out_of_order", where, f"expected {case_id} v{expected_version}"))
        if recomputed != event["hash"]:
            findings.append(Finding("hash_mismatch", where, "the event's content does not give its hash"))
        if not _proven(leaf, event, checkpoint):
            findings.append(Finding("not_in_checkpoint", where, "no inclusion in the signed tree"))
        elif event["leaf_index"] <= previous_index:
            findings.append(Finding("events_out_of_order", where, "a later version sits earlier in the log"))
        previous_hash, previous_index = event["hash"], event.get("leaf_index", previous_index)
    return findings


def _policy_findings(policy: dict[str, Any], checkpoint: Checkpoint) -> list[Finding]:
    findings = []
    for entry in policy["versions"]:
        where = f"policy {policy['policy_id']} #{entry.get('number') if isinstance(entry, dict) else entry}"
        try:
            leaf = policy_leaf(policy["policy_id"], entry["number"], entry["record"])
        except (KeyError, TypeError, ValueError) as error:
            findings.append(Finding("malformed_policy", where, str(error)))
            continue
        if not _proven(leaf, entry, checkpoint):
            findings.append(Finding("policy_not_in_checkpoint", where, "the inclusion proof fails"))
    return findings or _history_findings(policy)


def _history_findings(policy: dict[str, Any]) -> list[Finding]:
    """The versions must make a table, numbered 1 to n and adopted in that order: the
    replay takes "the first k adoptions" as the table known when a claim was recorded."""
    where = f"policy {policy['policy_id']}"
    try:
        table = policy_table(policy["versions"])
    except (KeyError, TypeError, ValueError) as error:
        return [Finding("malformed_policy", where, str(error))]
    problem = order_problem(policy["versions"], table)
    return [Finding("policy_versions_out_of_order", where, problem)] if problem else []


def _load(bundle: bytes) -> dict[str, Any]:
    document = orjson.loads(bundle)
    if not isinstance(document, dict) or document.get("format") not in READABLE_FORMATS:
        raise ValueError(f"not a {BUNDLE_FORMAT} document")
    return document


def verify_bundle(bundle: bytes, verifier: Verifier) -> list[Finding]:
    """Every reason not to trust this bundle; an empty list means it checks out."""
    try:
        document = _load(bundle)
        checkpoint = verify_signed_checkpoint(document["checkpoint"], verifier)
        case_id, events, policy = document["case_id"], document["events"], document["policy"]
    except CheckpointError as error:
        return [Finding(error.code, "checkpoint", error.detail)]
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as error:
        return [Finding("malformed_bundle", "bundle", str(error))]
    if not events:
        return [Finding("malformed_bundle", "events", "a case bundle holds at least one event")]
    return _event_findings(case_id, events, checkpoint) + _policy_findings(policy, checkpoint)


def bundle_case_state(bundle: bytes) -> tuple[CaseState, PolicyTable]:
    """The case folded from the bundle's events (check `verify_bundle` first)."""
    document = _load(bundle)
    facts = [
        Fact(
            UUID(event["event_id"]),
            event["version"],
            datetime.fromisoformat(event["recorded_at"]),
            # Sealed personal values fold as "[sealed]": the fold needs no key.
            parse_event(
                event["type"], blind_sealed_data(event["type"], event["data"]), event["schema_version"]
            ),
        )
        for event in document["events"]
    ]
    return replay(facts), policy_table(document["policy"]["versions"])
