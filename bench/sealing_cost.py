"""What sealing costs per event: seal and open of a typical EmploymentStarted, and the rest.

Run: `.venv/bin/python -m bench.sealing_cost [repeats]`. CPU only, one core, no database:
the figures compare with the service's CPU per append (docs/performance.md).
"""

from __future__ import annotations

import os
import sys
import timeit
from uuid import uuid4

from app.domain.data_keys import AesGcmMasterKey
from app.domain.sealing import blind_event, new_data_key, open_event_data, seal_event_data
from app.events import parse_event

JOB = {
    "job_id": "J-20250106-1",
    "start_date": "2025-01-06",
    "employer": "Riverside Community Hospital, Environmental Services",
    "soc_code": "37-2011",
    "hours_per_week": 32,
    "hourly_wage": "17.25",
    "career_pathway": "Health care support",
}
METADATA = {"actor": "case_system:k1", "source": "qe2", "correlation_id": "c-42"}


def per_call_us(work, repeats: int) -> float:  # type: ignore[no-untyped-def]
    best = min(timeit.repeat(work, number=repeats, repeat=5))
    return best / repeats * 1e6


def main(repeats: int) -> None:
    case_id, event_id, key = "case-42", uuid4(), new_data_key()
    master = AesGcmMasterKey(os.urandom(32))
    wrapped = master.wrap(key, case_id)
    sealed = seal_event_data("EmploymentStarted", JOB, METADATA, case_id, event_id, key)
    event = parse_event("EmploymentStarted", JOB)
    figures = {
        "seal EmploymentStarted (2 personal fields)": lambda: seal_event_data(
            "EmploymentStarted", JOB, METADATA, case_id, event_id, key
        ),
        "open EmploymentStarted": lambda: open_event_data(
            "EmploymentStarted", *sealed, case_id, event_id, key
        ),
        "seal + open": lambda: open_event_data(
            "EmploymentStarted",
            *seal_event_data("EmploymentStarted", JOB, METADATA, case_id, event_id, key),
            case_id,
            event_id,
            key,
        ),
        "blind_event (append-path fold input)": lambda: blind_event(event),
        "seal a CaseOpened (no personal field)": lambda: seal_event_data(
            "CaseOpened", {"opened_on": "2025-01-02"}, METADATA, case_id, event_id, key
        ),
        "unwrap a data key (once per case, then cached)": lambda: master.unwrap(wrapped, case_id),
        "parse_event EmploymentStarted (for scale)": lambda: parse_event("EmploymentStarted", JOB),
    }
    for label, work in figures.items():
        print(f"{label}: {per_call_us(work, repeats):.1f} us")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
