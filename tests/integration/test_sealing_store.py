"""Personal values are stored sealed per case; authorized reads open them; destroying the
case's key leaves clock, chain and fiscal data and nothing readable (issue 13, item 2)."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, date, datetime

import asyncpg

from app.domain.data_keys import AesGcmMasterKey
from app.domain.policy import DEFAULT_POLICY
from app.domain.sealing import DESTROYED
from app.service import reads
from app.service.append import AppendHandler
from app.service.case_keys import CaseKeys
from app.service.errors import ServiceError
from app.service.keys import Principal
from app.service.validate import Proposed
from app.store import data_keys
from app.store import streams as store

EMPLOYER = "Quillfeather Bakery of Elm Street"
REASON = "moved to care for her mother after the surgery"
NOTE = "counselor note: prefers morning shifts"
WRITER = Principal("k-sealing", "case_system")


def personal_batch(ended_id: uuid.UUID) -> list[Proposed]:
    return [
        Proposed(
            "CaseOpened",
            {
                "opened_on": "2024-01-02",
                "supported_employment": False,
                "ipe_service_categories": ["job_coaching"],
            },
        ),
        Proposed(
            "EmploymentStarted",
            {
                "job_id": "j1",
                "start_date": "2024-02-01",
                "employer": EMPLOYER,
                "soc_code": "35-2014",
                "hours_per_week": 30,
                "hourly_wage": "15.50",
            },
            metadata={"note": NOTE},
        ),
        Proposed(
            "EmploymentEnded", {"job_id": "j1", "end_date": "2024-03-01", "reason": REASON}, event_id=ended_id
        ),
    ]


async def tables_holding(conn: asyncpg.Connection, text: str) -> list[str]:
    """Every table of the schema whose rows, as text, contain `text` (a dump's view)."""
    names = await conn.fetch(
        "SELECT quote_ident(table_name) AS name FROM information_schema.tables "
        "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
    )
    holding = []
    for row in names:
        name = row["name"]
        if await conn.fetchval(f"SELECT count(*) FROM {name} t WHERE t::text LIKE $1", f"%{text}%"):
            holding.append(name)
    return holding


async def test_personal_values_are_sealed_opened_and_destroyed(pool, owner_pool, case_id):
    keys = CaseKeys(AesGcmMasterKey(os.urandom(32)))
    handler = AppendHandler(pool, DEFAULT_POLICY, keys=keys)
    ended_id = uuid.uuid4()
    appended = await handler.append(WRITER, case_id, None, personal_batch(ended_id))
    assert appended.version == 3
    retry = await handler.append(WRITER, case_id, None, personal_batch(ended_id)[2:])
    assert retry.replayed  # a retry is compared on its plaintext, not on the sealed form

    async with pool.acquire() as conn:
        for text in (EMPLOYER, REASON, NOTE):
            assert await tables_holding(conn, text) == []
        opened = await keys.opened(conn, await store.read_stream(conn, case_id))
        assert opened[1].data["employer"] == EMPLOYER and opened[1].metadata["note"] == NOTE
        assert opened[2].data["reason"] == REASON
        state, version = await reads.case_state(conn, case_id)  # folds need no key
        assert version == 3 and EMPLOYER not in repr(state)

        # retention is an operator command: it runs as the tables' owner
        async with owner_pool.acquire() as owner:
            assert await data_keys.destroy(owner, case_id, datetime.now(UTC))
        keys.forget(case_id)
        events = await store.read_stream(conn, case_id)
        destroyed = await keys.opened(conn, events)
        clock, _ = await reads.closure_clock(
            conn, case_id, as_of=date(2024, 6, 1), known_at=None, policy=DEFAULT_POLICY
        )
    assert destroyed[1].data["employer"] == DESTROYED and destroyed[2].data["reason"] == DESTROYED
    assert destroyed[1].data["hourly_wage"] == "15.50" and destroyed[1].data["start_date"] == "2024-02-01"
    assert store.verify_stream(events)["ok"]
    assert clock is not None
    try:
        await handler.append(
            WRITER,
            case_id,
            None,
            [Proposed("EmploymentEnded", {"job_id": "j1", "end_date": "2024-03-02", "reason": "another"})],
        )
    except ServiceError as refused:
        assert refused.code == "rule_violation"
