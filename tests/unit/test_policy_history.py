"""The policy table as recorded history, pure: known-at tables, the chain, adjustments."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

from app.domain.hashing import GENESIS
from app.domain.ledger_pricing import price_pba
from app.domain.ledger_state import Claim, Pba
from app.domain.policy import DEFAULT_POLICY, Adoption, PolicyTable, version_from_row
from app.domain.policy_history import StoredVersion, chain_hash, chain_problems, eligible_on_moves

SEEDED = datetime(1970, 1, 1, tzinfo=UTC)
ADOPTED = datetime(2025, 1, 10, 12, tzinfo=UTC)
RAISED = version_from_row(
    {
        "effective_from": "2024-01-01",
        "closure_wait_days": 120,
        "milestone_rates": {
            "placement_plan_signed": 1000,
            "job_hire": "1400.00",
            "successful_placement": 1500,
        },
        "pba_cap_per_consumer": "3800",
    }
)
TABLE = PolicyTable.from_adoptions(
    (Adoption(1, SEEDED, "seed", DEFAULT_POLICY.versions[0]), Adoption(2, ADOPTED, "director", RAISED))
)


def test_a_table_as_known_before_an_adoption_lacks_it() -> None:
    day = date(2024, 3, 1)
    assert TABLE.as_known_at(datetime(2025, 1, 1, tzinfo=UTC)).milestone_rate("job_hire", day) == Decimal(
        "1300"
    )
    assert TABLE.as_known_at(ADOPTED).milestone_rate("job_hire", day) == Decimal("1400.00")
    assert TABLE.as_known_at(None) is TABLE


def _chain() -> list[StoredVersion]:
    stored, previous = [], GENESIS
    for adoption in TABLE.adoptions:
        stored.append(StoredVersion(adoption, previous, chain_hash(previous, adoption)))
        previous = stored[-1].hash
    return stored


def test_the_chain_verifies_and_any_edit_shows() -> None:
    stored = _chain()
    assert chain_problems(stored) == []
    redated = replace(stored[1], adoption=replace(stored[1].adoption, adopted_at=SEEDED))
    assert chain_problems([stored[0], redated]) == ["policy version 2 does not hash to its stored hash"]
    assert "policy version 1 is missing (found 2)" in chain_problems(stored[1:])


def test_a_claim_recorded_before_a_retroactive_adoption_keeps_its_price_and_is_adjusted() -> None:
    hire = Claim(uuid4(), "job_hire", date(2024, 2, 2), "AH", recorded_at=datetime(2024, 2, 3, tzinfo=UTC))
    later = Claim(uuid4(), "placement_plan_signed", date(2024, 2, 5), "AP", recorded_at=ADOPTED)
    priced = price_pba(Pba("pba-1", "prov-1", date(2024, 1, 5), claims=(hire, later)), TABLE)
    assert [amount for _, amount, _ in priced.lines] == [Decimal("1300.00"), Decimal("1000.00")]
    assert priced.now == (Decimal("1400.00"), Decimal("1000.00"))
    (adjustment,) = priced.adjustments
    assert (adjustment.event_id, adjustment.difference, adjustment.policy_version) == (
        hire.event_id,
        Decimal("100.00"),
        2,
    )


def test_only_a_clock_started_before_the_adoption_says_its_date_moved() -> None:
    (moved,) = eligible_on_moves(date(2024, 2, 15), TABLE)
    assert moved.startswith("eligible_on moved from 2024-05-15 to 2024-06-14: policy version 2")
    assert eligible_on_moves(date(2025, 2, 1), TABLE) == ()
    assert eligible_on_moves(date(2024, 2, 15), DEFAULT_POLICY) == ()
