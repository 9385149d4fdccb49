"""A case's first data key is stored by the same statement as the append that first seals
with it (issue 13, item 2: no round trip of its own). What must hold: a key another
process gave the case wins and the values open; a destroyed case takes nothing; an append
that loses its race stores no key either."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from app.domain.data_keys import AesGcmMasterKey
from app.domain.policy import DEFAULT_POLICY
from app.service.append import AppendHandler
from app.service.case_keys import CaseKeys
from app.service.errors import ServiceError
from app.service.keys import Principal
from app.service.validate import Proposed
from app.store import data_keys
from app.store import streams as store
from app.store.appends import AppendCall, LostRace
from tests.builders import employment_started

WRITER = Principal("k-first-key", "case_system")
OPENED = {
    "opened_on": "2024-01-02",
    "supported_employment": False,
    "ipe_service_categories": ["job_coaching"],
}


def started(employer: str) -> Proposed:
    job = employment_started(employer=employer)
    return Proposed(job["type"], job["data"], metadata={"note": "prefers mornings"})


def ended(reason: str) -> Proposed:
    return Proposed("EmploymentEnded", {"job_id": "j1", "end_date": "2024-03-01", "reason": reason})


async def test_a_key_another_process_stored_wins_and_every_value_opens(pool, case_id):
    master = AesGcmMasterKey(os.urandom(32))
    first, second = CaseKeys(master), CaseKeys(master)  # two processes, one master key
    await AppendHandler(pool, DEFAULT_POLICY, keys=first).append(
        WRITER, case_id, None, [Proposed("CaseOpened", dict(OPENED)), started("Elm Street Bakery")]
    )
    # the second process knows no key of the case: it offers its own, which must lose
    await AppendHandler(pool, DEFAULT_POLICY, keys=second).append(
        WRITER, case_id, None, [ended("moved away")]
    )
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM case_data_keys WHERE case_id = $1", case_id) == 1
        opened = await CaseKeys(master).opened(conn, await store.read_stream(conn, case_id))
    assert opened[1].data["employer"] == "Elm Street Bakery"
    assert opened[2].data["reason"] == "moved away"


async def test_a_destroyed_case_unknown_to_the_process_takes_no_personal_value(pool, owner_pool, case_id):
    master = AesGcmMasterKey(os.urandom(32))
    await AppendHandler(pool, DEFAULT_POLICY, keys=CaseKeys(master)).append(
        WRITER, case_id, None, [Proposed("CaseOpened", dict(OPENED)), started("Elm Street Bakery")]
    )
    async with owner_pool.acquire() as owner:
        assert await data_keys.destroy(owner, case_id, datetime.now(UTC))
    with pytest.raises(ServiceError) as refused:
        await AppendHandler(pool, DEFAULT_POLICY, keys=CaseKeys(master)).append(
            WRITER, case_id, None, [ended("moved away")]
        )
    assert refused.value.code == "rule_violation"
    async with pool.acquire() as conn:
        assert len(await store.read_stream(conn, case_id)) == 2  # nothing was written


async def test_an_append_that_loses_its_race_stores_no_key(pool, case_id):
    master = AesGcmMasterKey(os.urandom(32))
    await AppendHandler(pool, DEFAULT_POLICY).append(
        WRITER, case_id, None, [Proposed("CaseOpened", dict(OPENED))]
    )
    async with pool.acquire() as conn:
        stored = await store.read_stream(conn, case_id)
        e = stored[0]
        # version 0 expected, but the case is at 1: the head moved
        call = AppendCall(
            case_id, 0, [e.event_id], [e.type], [1], [e.data], [e.metadata], ["0" * 64],
            datetime.now(UTC), 1, None, None, None, 0,
        )  # fmt: skip
        with pytest.raises(LostRace):
            await data_keys.put_with_append(conn, call, master.wrap(os.urandom(32), case_id), master.key_id)
        assert await conn.fetchval("SELECT count(*) FROM case_data_keys WHERE case_id = $1", case_id) == 0
