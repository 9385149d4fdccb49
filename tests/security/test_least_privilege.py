"""The service's database role cannot rewrite history (issue 12, item 2).

Tried as an attacker holding the service's own connection would: every statement
that could change history unseen is refused by PostgreSQL's privileges (SQLSTATE
42501, "permission denied" or "must be owner"), not merely by a trigger the owner
could disable; appends, reads and API keys still work. `pool` and `api` connect as
the app role (tests/conftest.py), so the rest of the suite proves the service
needs nothing more.
"""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from app.service.keys import create_key, revoke_key
from app.settings import get_settings
from app.store.db import connect
from app.store.pool import Pool
from app.store.privileges import app_role_url
from tests.builders import case_opened

REFUSED = {
    "alter_table": "ALTER TABLE events ADD COLUMN forged text",
    "disable_trigger": "ALTER TABLE events DISABLE TRIGGER events_append_only",
    "disable_all_triggers": "ALTER TABLE events DISABLE TRIGGER ALL",
    "update_events": "UPDATE events SET data = data WHERE case_id = $1",
    "delete_events": "DELETE FROM events WHERE case_id = $1",
    "insert_events_directly": "INSERT INTO events SELECT * FROM events WHERE case_id = $1",
    "truncate_events": "TRUNCATE events",
    "truncate_read_model": "TRUNCATE closure_clock",
    "drop_events": "DROP TABLE events",
    "create_table": "CREATE TABLE forged (x int)",
    "update_closure_clock": "UPDATE closure_clock SET phase = 'in_follow_up' WHERE case_id = $1",
    "delete_case_state": "DELETE FROM case_state WHERE case_id = $1",
    "update_ledger": "UPDATE ledger_pba SET paid = 0 WHERE case_id = $1",
    "write_clock_behind_the_append": 'SELECT caseledger_put_clock($1, \'{"phase": "in_follow_up"}\')',
    "replace_the_append": "ALTER FUNCTION caseledger_append SECURITY INVOKER",
    "promote_a_key": "UPDATE api_keys SET role = 'admin' WHERE key_id = $1",
    "delete_a_key": "DELETE FROM api_keys WHERE key_id = $1",
}


@pytest.fixture
async def opened_case(api, case_id: str) -> str:
    assert (await api.append(case_id, case_opened())).status_code == 201
    return case_id


@pytest.mark.parametrize("attempt", sorted(REFUSED))
async def test_the_app_role_is_refused_by_postgresql(pool: Pool, opened_case: str, attempt: str) -> None:
    sql = REFUSED[attempt]
    args = [opened_case] if "$1" in sql else []
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        try:
            with pytest.raises(asyncpg.InsufficientPrivilegeError) as refused:
                await conn.execute(sql, *args)
        finally:
            await tx.rollback()  # nothing survives even if PostgreSQL let it through
        count = await conn.fetchval("SELECT count(*) FROM events WHERE case_id = $1", opened_case)
    assert refused.value.sqlstate == "42501"
    assert "permission denied" in str(refused.value) or "must be owner" in str(refused.value)
    assert count == 1


async def test_the_service_connects_as_the_app_role_which_owns_nothing(pool: Pool) -> None:
    async with pool.acquire() as conn:
        me = await conn.fetchrow(
            "SELECT current_user AS name, rolsuper FROM pg_roles WHERE rolname = current_user"
        )
        owned = await conn.fetchval(
            "SELECT count(*) FROM pg_class"
            " WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
        )
    assert me["name"] == get_settings().app_role and me["rolsuper"] is False
    assert owned == 0


async def test_the_append_runs_as_its_owner_with_a_pinned_search_path(pool: Pool) -> None:
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT prosecdef, proconfig FROM pg_proc WHERE proname = 'caseledger_append'"
        )
    assert row["prosecdef"] is True
    assert any(setting.startswith("search_path=pg_catalog,") for setting in row["proconfig"])


async def test_appends_reads_and_keys_work_as_the_app_role(api, pool: Pool, case_id: str) -> None:
    assert (await api.append(case_id, case_opened())).status_code == 201
    assert (await api.get(f"/cases/{case_id}/events")).status_code == 200
    assert (await api.get(f"/cases/{case_id}/verify", role="auditor")).json()["ok"] is True
    async with pool.acquire() as conn:
        key_id, secret = await create_key(conn, role="auditor")
        as_new_key = {"Authorization": f"Bearer {secret}"}
        assert (await api.client.get(f"/cases/{case_id}/verify", headers=as_new_key)).status_code == 200
        assert await revoke_key(conn, key_id) is True
        assert await conn.fetchval("SELECT revoked_at IS NOT NULL FROM api_keys WHERE key_id = $1", key_id)


async def test_migrate_with_the_owners_url_creates_and_grants_the_app_role_serve_uses(
    databases, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`caseledger migrate` as the owner; `serve` then finds the schema at head as the app role."""
    from typer.testing import CliRunner

    from app.cli.main import cli
    from app.store.migrations import schema_status

    owner_url = await databases.create(migrated=False)
    monkeypatch.setenv("DATABASE_URL", owner_url)
    get_settings.cache_clear()
    try:
        migrated = await asyncio.to_thread(CliRunner().invoke, cli, ["migrate"])
    finally:
        get_settings.cache_clear()
    assert migrated.exit_code == 0, migrated.output
    app_url = app_role_url(owner_url)
    assert await schema_status(owner_url) == (True, True)
    assert await schema_status(app_url) == (True, False)  # serve's check: at head, owns nothing
    conn = await connect(app_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM events") == 0
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("ALTER TABLE events DISABLE TRIGGER ALL")
    finally:
        await conn.close()
