"""Migration 0010 (issues 16 and 13): the append's helpers in PL/pgSQL answer exactly as
0009's LANGUAGE sql ones did (same rows, same results, same SQLSTATEs), the data key
function stays the app role's SECURITY DEFINER way in, and 0010 goes down and up."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from alembic import command
from app.store.db import connect
from app.store.migrations import alembic_config, upgrade_to_head
from app.store.privileges import app_role_url
from tests.conftest import Databases

CLOCK = '{"phase": "open", "clock_start": "2024-01-02", "eligible_on": null, "explanation": {"r": 1}}'
LATER = '{"phase": "eligible", "clock_start": "2024-01-02", "eligible_on": "2024-04-01"}'
PBA = (
    '{{"pba_id": "{id}", "provider_id": "prov-1", "status": "open", "opened_on": "2024-01-05", '
    '"earned": "{paid}", "authorized": "{paid}", "paid": "{paid}", "outstanding": "0.00", '
    '"cap_left": "3800.00"}}'
)
TWO = f"[{PBA.format(id='p1', paid='100.00')}, {PBA.format(id='p2', paid='200.00')}]"
ONE = f"[{PBA.format(id='p2', paid='250.00')}]"
ROWS = (
    "SELECT (SELECT json_agg(c ORDER BY case_id)::text FROM closure_clock c),"
    " (SELECT json_agg(l ORDER BY case_id, pba_id)::text FROM ledger_pba l),"
    " (SELECT json_agg(json_build_array(case_id, wrapped, master_key_id, destroyed_at)"
    "  ORDER BY case_id)::text FROM case_data_keys)"
)
PUT_CLOCK = "SELECT caseledger_put_clock('c1', $1::jsonb)"
PUT_LEDGER = "SELECT caseledger_put_ledger('c1', $1::jsonb)"
KEY = "SELECT caseledger_put_data_key($1, $2, $3)"
DESTROYED = "INSERT INTO case_data_keys VALUES ('gone', NULL, '-', '2026-01-01', '2026-02-01')"

# Each scenario runs in a transaction of its own that is rolled back: the same start each time.
SCENARIOS: list[list[tuple[str, tuple[Any, ...]]]] = [
    [(PUT_CLOCK, (CLOCK,)), (PUT_CLOCK, (LATER,))],
    [(PUT_CLOCK, ('{"phase": "open", "clock_start": "2024-13-45"}',))],  # no such date
    [(PUT_CLOCK, ('{"clock_start": "2024-01-02"}',))],  # no phase
    [(PUT_LEDGER, (TWO,)), (PUT_LEDGER, (ONE,))],
    [(PUT_LEDGER, (TWO,)), (PUT_LEDGER, ("[]",))],
    [(PUT_LEDGER, (f"[{PBA.format(id='p1', paid='1')}, {PBA.format(id='p1', paid='2')}]",))],  # one PBA twice
    [(PUT_LEDGER, (PBA.format(id="p1", paid="x").join("[]"),))],  # not a number
    [(KEY, ("k1", b"first", "m1")), (KEY, ("k1", b"second", "m2")), (KEY, ("k2", b"other", "m1"))],
    [(DESTROYED, ()), (KEY, ("gone", b"fresh", "m1"))],
    [(KEY, ("k1", None, "m1"))],
    [(KEY, (None, b"k", "m1"))],
]


async def _outcomes(url: str) -> list[list[Any]]:
    """Every scenario's answers, statement by statement, and the rows it left (or its SQLSTATE)."""
    conn = await connect(url)
    try:
        outcomes = []
        for scenario in SCENARIOS:
            answers: list[Any] = []
            tx = conn.transaction()
            await tx.start()
            try:
                for sql, args in scenario:
                    answers.append(await conn.fetchval(sql, *args))
                answers.append(tuple(await conn.fetchrow(ROWS)))
            except asyncpg.PostgresError as error:
                answers.append(("error", error.sqlstate))
            finally:
                await tx.rollback()
            outcomes.append(answers)
        return outcomes
    finally:
        await conn.close()


async def _functions(url: str) -> dict[str, tuple[str, bool, list[str] | None, bool]]:
    """Per helper: its language, SECURITY DEFINER, its settings, whether PUBLIC may call it."""
    conn = await connect(url)
    try:
        rows = await conn.fetch(
            "SELECT p.proname, l.lanname, p.prosecdef, p.proconfig,"
            " has_function_privilege('public', p.oid, 'EXECUTE') AS public_may"
            " FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang"
            " WHERE p.pronamespace = current_schema()::regnamespace AND p.proname = ANY($1::text[])",
            ["caseledger_put_clock", "caseledger_put_ledger", "caseledger_put_data_key"],
        )
        return {r["proname"]: (r["lanname"], r["prosecdef"], r["proconfig"], r["public_may"]) for r in rows}
    finally:
        await conn.close()


async def test_the_helpers_answer_as_before_and_0010_goes_down_and_up(databases: Databases) -> None:
    url = await databases.create()
    after = await _outcomes(url)
    await asyncio.to_thread(command.downgrade, alembic_config(url), "0009")
    assert {f[0] for f in (await _functions(url)).values()} == {"sql"}
    assert await _outcomes(url) == after
    await upgrade_to_head(url)
    assert await _outcomes(url) == after
    functions = await _functions(url)
    assert functions["caseledger_put_clock"] == ("plpgsql", False, None, False)
    assert functions["caseledger_put_ledger"] == ("plpgsql", False, None, False)
    language, definer, settings, public_may = functions["caseledger_put_data_key"]
    assert (language, definer, public_may) == ("plpgsql", True, False)
    assert settings is not None and any(s.startswith("search_path=pg_catalog,") for s in settings)


async def test_the_app_role_stores_a_new_case_key_once_and_reads_the_stored_one(database_url: str) -> None:
    app = await connect(app_role_url(database_url))
    try:
        assert await app.fetchval(KEY, "key-0010", b"first", "m1") == b"first"
        assert await app.fetchval(KEY, "key-0010", b"second", "m1") == b"first"
    finally:
        await app.close()
