"""The access record's chain check (`app.domain.access_chain`): what an auditor's
`caseledger access-log --verify` finds in batches read back from the database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import orjson

from app.domain.access_chain import ChainCheck, StoredBatch
from app.domain.access_records import GENESIS, AccessRecord, RecordBatch

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def record(n: int, case: str) -> AccessRecord:
    return AccessRecord(
        T0 + timedelta(seconds=n), "k1", "auditor", None, "10.0.0.1", (case,), "GET /x", f"r{n}", 200
    )


def stored_batches(*groups: list[AccessRecord]) -> list[StoredBatch]:
    """The batches as the writer stores them, chained one after the other."""
    out, head, position = [], GENESIS, 1
    for group in groups:
        gathered = RecordBatch()
        for r in group:
            gathered.add(r)
        b = gathered.chained(head)
        last = position + b.count - 1
        out.append(
            StoredBatch(
                position,
                last,
                b.first_at,
                b.last_at,
                b.case_ids,
                b.actors,
                b.previous_hash,
                b.hash,
                b.records.decode(),
            )
        )
        head, position = b.hash, last + 1
    return out


def checked(batches: list[StoredBatch]) -> ChainCheck:
    check = ChainCheck()
    for b in batches:
        check.batch(b)
    return check


BATCHES = stored_batches(
    [record(0, "c-1"), record(1, "c-2")], [record(2, "c-1"), record(3, "c-3"), record(4, "c-1")]
)


def test_batches_as_written_verify() -> None:
    check = checked(BATCHES)
    assert (
        check.problems == [] and (check.records, check.batches) == (5, 2) and check.head == BATCHES[-1].hash
    )


def test_two_records_swapped_inside_a_batch_break_the_chain() -> None:
    rows = orjson.loads(BATCHES[1].records)
    rows[0], rows[1] = rows[1], rows[0]
    problems = checked([BATCHES[0], replace(BATCHES[1], records=orjson.dumps(rows).decode())]).problems
    assert "record 3: does not continue the record before it" in problems


def test_a_batch_that_miscounts_or_is_not_json_is_named() -> None:
    short = replace(BATCHES[1], last_position=BATCHES[1].last_position + 1)
    assert "batch 3-6: holds 3 records" in checked([BATCHES[0], short]).problems
    garbled = replace(BATCHES[1], records="[{")
    assert "batch 3-5: its records are not a JSON array of objects" in checked([BATCHES[0], garbled]).problems


def test_index_columns_that_leave_out_an_actor_or_a_time_are_named() -> None:
    no_actor = replace(BATCHES[0], actors=["auditor"])
    assert any("its actors are not its records'" in p for p in checked([no_actor]).problems)
    late = replace(BATCHES[0], first_at=T0 + timedelta(hours=1), last_at=T0 + timedelta(hours=2))
    assert "batch 1-2: its times are not its records'" in checked([late]).problems


def test_a_gap_in_positions_is_named() -> None:
    moved = replace(BATCHES[1], first_position=4, last_position=6)
    assert "batch 4-6: positions jump from 2" in checked([BATCHES[0], moved]).problems
