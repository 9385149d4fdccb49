"""One payload per event type that has personal fields, each personal value easy to spot.

Every personal value below contains "Rivera" or "Zephyr", so a test can look for those
words in any bytes (sealed events, snapshots, read-model rows) to find a leak.
"""

from __future__ import annotations

from typing import Any

TELLTALES = ("Rivera", "Zephyr")

CASE_ID = "case-17.A"

PERSONAL_SAMPLES: dict[str, dict[str, Any]] = {
    "EmploymentStarted": {
        "job_id": "J1",
        "start_date": "2025-01-06",
        "employer": "Zephyr Bakery, owned by the Rivera family",
        "soc_code": "51-3011",
        "hours_per_week": 30,
        "hourly_wage": "17.25",
        "career_pathway": "Zephyr pastry apprenticeship",
    },
    "EmploymentEnded": {
        "job_id": "J1",
        "end_date": "2025-02-10",
        "reason": "Ms Rivera left after a seizure at work",
    },
    "EmploymentFollowUpCancelled": {
        "cancelled_on": "2025-02-12",
        "reason": "Rivera needs surgery first",
    },
    "CaseClosed": {
        "closed_on": "2025-06-30",
        "outcome": "unsuccessful",
        "reason": "Rivera moved to Zephyr county",
    },
    "EventRetracted": {
        "retracted_event_id": "3f1c2f5e-1111-4b5b-9c1a-2a7e5d3c9b10",
        "reason": "wrong employer: not Zephyr Bakery",
    },
    "LegalHoldPlaced": {"placed_on": "2030-01-02", "reason": "Rivera v. State, appeal pending"},
    "LegalHoldLifted": {"lifted_on": "2031-01-02", "reason": "Rivera appeal decided"},
}

NOTE_METADATA: dict[str, Any] = {
    "actor": "case_system:k1",
    "source": "qe2",
    "correlation_id": "c-1",
    "note": "called Ms Rivera at home",
    "extra": {"caller": "Zephyr"},
}


def contains_telltale(blob: bytes | str) -> bool:
    text = blob.decode() if isinstance(blob, bytes) else blob
    return any(word in text for word in TELLTALES)
