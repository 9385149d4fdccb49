"""A bundle's policy is the recorded history: every adoption by its number, a same-day
correction included, and a history with a version left out or reordered is named."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import orjson
import pytest

from app.domain.bundle import build_bundle, bundle_case_state, encode_proof, verify_bundle
from app.domain.bundle_policy import policy_entries
from app.domain.checkpoint import Checkpoint, sign_checkpoint
from app.domain.merkle import inclusion_proof, leaf_hash, tree_root
from app.domain.merkle_leaves import event_leaf, policy_leaf
from app.domain.policy import DEFAULT_POLICY, Adoption, PolicyTable, policy_version
from tests.unit.test_bundle import CASE, KEY, ORIGIN, VERIFIER, stored_events

SEEDED = datetime(1970, 1, 1, tzinfo=UTC)


def _version(job_hire: str, wait: int) -> Any:
    rates = {"placement_plan_signed": "1000.00", "job_hire": job_hire, "successful_placement": "1500.00"}
    return policy_version(
        date(2025, 1, 1),
        closure_wait_days=wait,
        rates={k: Decimal(v) for k, v in rates.items()},  # type: ignore[misc]
        pba_cap=Decimal("3800.00"),
    )


# Seeded, then a version from 2025-01-01 adopted and corrected the same day.
HISTORY = PolicyTable.from_adoptions(
    (
        Adoption(1, SEEDED, "seed: built-in default table", DEFAULT_POLICY.versions[0]),
        Adoption(2, datetime(2025, 3, 10, 9, tzinfo=UTC), "admin:k1", _version("1400.00", 120)),
        Adoption(3, datetime(2025, 3, 10, 11, tzinfo=UTC), "admin:k1", _version("1350.00", 110)),
    )
)


def bundle_of(entries: list[dict[str, Any]], *, fmt: str | None = None) -> bytes:
    """The policy leaves, then the case's events, in one signed tree."""
    events = stored_events(CASE)
    leaves = [policy_leaf("default", e["number"], e["record"]) for e in entries]
    leaves += [event_leaf(e["case_id"], e["version"], e["hash"]) for e in events]
    hashes = [leaf_hash(leaf) for leaf in leaves]
    size = len(hashes)
    checkpoint = Checkpoint(ORIGIN, size, tree_root(hashes), 99, datetime(2025, 3, 11, tzinfo=UTC))
    proven = [
        item | {"leaf_index": i, "inclusion_proof": encode_proof(inclusion_proof(i, size, hashes))}
        for i, item in enumerate([*entries, *events])
    ]
    note = sign_checkpoint(checkpoint, KEY, ORIGIN)
    bundle = build_bundle(CASE, note, proven[len(entries) :], "default", proven[: len(entries)])
    if fmt is None:
        return bundle
    return orjson.dumps(orjson.loads(bundle) | {"format": fmt})


def codes(bundle: bytes) -> set[str]:
    return {finding.code for finding in verify_bundle(bundle, VERIFIER)}


def test_a_same_day_correction_is_its_own_entry_and_the_replay_has_the_services_history() -> None:
    entries = policy_entries(HISTORY)
    assert [(e["number"], e["record"]["milestone_rates"]["job_hire"]) for e in entries] == [
        (1, "1300.00"),
        (2, "1400.00"),
        (3, "1350.00"),
    ]
    bundle = bundle_of(entries)
    assert verify_bundle(bundle, VERIFIER) == []
    _, table = bundle_case_state(bundle)
    assert table.adoptions == HISTORY.adoptions
    assert table.closure_wait_days(date(2025, 3, 3)) == 110  # the correction is in force


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda d: d["policy"]["versions"].pop(1), id="a-version-left-out"),
        pytest.param(lambda d: d["policy"]["versions"].reverse(), id="versions-reversed"),
        pytest.param(
            lambda d: d["policy"]["versions"][2].update(adopted_at="2025-03-10T08:00:00.000000Z"),
            id="adopted-before-the-version-it-follows",
        ),
    ],
)
def test_a_history_that_is_not_the_adoptions_in_order_is_named(change: Any) -> None:
    document = orjson.loads(bundle_of(policy_entries(HISTORY)))
    change(document)
    assert codes(orjson.dumps(document)) == {"policy_versions_out_of_order"}


def test_a_version_without_its_adoption_time_is_malformed() -> None:
    document = orjson.loads(bundle_of(policy_entries(HISTORY)))
    del document["policy"]["versions"][1]["adopted_at"]
    assert codes(orjson.dumps(document)) == {"malformed_policy"}


def test_a_v1_bundle_numbered_by_position_still_verifies_and_replays() -> None:
    table = PolicyTable(HISTORY.versions)  # no recorded history: numbered by position
    bundle = bundle_of(policy_entries(table), fmt="caseledger.case-bundle.v1")
    assert verify_bundle(bundle, VERIFIER) == []
    _, replayed = bundle_case_state(bundle)
    assert replayed.versions == HISTORY.versions and replayed.adoptions == ()


def test_adoption_times_and_authors_come_back_exactly() -> None:
    """The ledger's adjustments and the clock's explanation print them: to the microsecond."""
    history = PolicyTable.from_adoptions(
        (
            *HISTORY.adoptions[:2],
            Adoption(
                3, datetime(2025, 3, 10, 11, 0, 0, 123456, tzinfo=UTC), "cli:ana", _version("1350.00", 110)
            ),
        )
    )
    _, replayed = bundle_case_state(bundle_of(policy_entries(history)))
    assert replayed.adoptions == history.adoptions
