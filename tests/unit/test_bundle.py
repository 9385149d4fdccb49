"""An exported case bundle checks out offline, and any edit to it is named."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.domain.bundle import build_bundle, bundle_case_state, encode_proof, verify_bundle
from app.domain.case import clock_view
from app.domain.checkpoint import Checkpoint, Verifier, sign_checkpoint
from app.domain.hashing import GENESIS, event_hash
from app.domain.merkle import inclusion_proof, leaf_hash, tree_root
from app.domain.merkle_leaves import event_leaf, policy_leaf, policy_version_record
from app.domain.policy import DEFAULT_POLICY

ORIGIN = "caseledger.test/ledger"
KEY = Ed25519PrivateKey.from_private_bytes(bytes(32))
VERIFIER = Verifier(ORIGIN, KEY.public_key())
CASE = "case-7"
PAYLOADS = [
    ("CaseOpened", {"opened_on": "2025-01-02", "supported_employment": False, "ipe_service_categories": []}),
    (
        "EmploymentStarted",
        {
            "job_id": "j1",
            "start_date": "2025-03-03",
            "employer": "Acme Foods",
            "soc_code": "41-2011",
            "hours_per_week": 30,
            "hourly_wage": "16.50",
        },
    ),
]


def stored_events(case_id: str) -> list[dict[str, Any]]:
    events, previous = [], GENESIS
    for version, (event_type, data) in enumerate(PAYLOADS, start=1):
        recorded_at = datetime(2025, 3, 4, tzinfo=UTC) + timedelta(seconds=version)
        envelope = {
            "case_id": case_id,
            "version": version,
            "event_id": uuid4(),
            "type": event_type,
            "schema_version": 1,
            "data": data,
            "metadata": {"actor": "counselor-1"},
            "recorded_at": recorded_at,
        }
        previous = event_hash(previous, **envelope)
        recorded_text = recorded_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        events.append({**envelope, "event_id": str(envelope["event_id"]), "recorded_at": recorded_text})
        events[-1] |= {"hash": previous, "position": version << 20}
    return events


def make_bundle() -> bytes:
    """A log of: the policy version, another case's events, then ours, then another's."""
    ours, other = stored_events(CASE), stored_events("case-other")
    record = policy_version_record(DEFAULT_POLICY.versions[0])
    log = [policy_leaf("default", 1, record)] + [
        event_leaf(e["case_id"], e["version"], e["hash"]) for e in (other[0], ours[0], ours[1], other[1])
    ]
    hashes = [leaf_hash(leaf) for leaf in log]
    size = len(hashes)
    checkpoint = Checkpoint(ORIGIN, size, tree_root(hashes), 99, datetime(2025, 3, 5, tzinfo=UTC))
    for event, index in zip(ours, (2, 3), strict=True):
        event |= {"leaf_index": index, "inclusion_proof": encode_proof(inclusion_proof(index, size, hashes))}
    policy = {"number": 1, "record": record, "leaf_index": 0}
    policy["inclusion_proof"] = encode_proof(inclusion_proof(0, size, hashes))
    return build_bundle(CASE, sign_checkpoint(checkpoint, KEY, ORIGIN), ours, "default", [policy])


BUNDLE = make_bundle()


def edited(change) -> bytes:  # type: ignore[no-untyped-def]
    document = orjson.loads(BUNDLE)
    change(document)
    return orjson.dumps(document)


def codes(bundle: bytes) -> set[str]:
    return {finding.code for finding in verify_bundle(bundle, VERIFIER)}


def test_an_untouched_bundle_checks_out() -> None:
    assert verify_bundle(BUNDLE, VERIFIER) == []


def test_the_bundle_replays_to_the_services_clock() -> None:
    state, policy = bundle_case_state(BUNDLE)
    view = clock_view(state, date(2025, 7, 1), policy)
    assert view.clock_start == date(2025, 3, 3)
    assert view.eligible_on == date(2025, 6, 1)


def test_changing_one_byte_is_refused() -> None:
    changed = BUNDLE.replace(b"16.50", b"16.51")
    assert changed != BUNDLE
    assert codes(changed) == {"hash_mismatch"}


def test_a_content_rewrite_with_recomputed_hashes_is_not_in_the_checkpoint() -> None:
    def rewrite(document: dict[str, Any]) -> None:
        event = document["events"][1]
        event["data"]["employer"] = "Elsewhere Ltd"
        previous = document["events"][0]["hash"]
        fields = {k: event[k] for k in ("case_id", "version", "type", "schema_version", "data", "metadata")}
        recorded_at = datetime.fromisoformat(event["recorded_at"])
        event["hash"] = event_hash(previous, event_id=event["event_id"], recorded_at=recorded_at, **fields)

    assert codes(edited(rewrite)) == {"not_in_checkpoint"}


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda d: d["events"].pop(0), "hash_mismatch"),
        (lambda d: d["events"].reverse(), "hash_mismatch"),
        (
            lambda d: d["policy"]["versions"][0]["record"].update(closure_wait_days=60),
            "policy_not_in_checkpoint",
        ),
        (lambda d: d.update(checkpoint=d["checkpoint"].replace("\n5\n", "\n6\n")), "bad_signature"),
        (lambda d: d["events"][0].update(leaf_index=3), "not_in_checkpoint"),
        (lambda d: d.update(format="something-else"), "malformed_bundle"),
    ],
)
def test_each_tampering_is_named(change, code: str) -> None:  # type: ignore[no-untyped-def]
    assert code in codes(edited(change))


def test_a_bundle_for_another_key_is_refused() -> None:
    stranger = Verifier(ORIGIN, Ed25519PrivateKey.generate().public_key())
    assert {f.code for f in verify_bundle(BUNDLE, stranger)} == {"unknown_key"}
