"""Every read of a case leaves an access record naming the key (issue 13, item 1)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from app.domain.access_records import GENESIS, AccessRecord, access_hash
from app.service.keys import hash_key
from app.store.pool import Pool
from tests.builders import case_opened, employment_started

READS = (
    "/cases/{case_id}/events",
    "/cases/{case_id}/closure-clock",
    "/cases/{case_id}/ledger",
    "/cases/{case_id}/history",
    "/cases/{case_id}/verify",
    "/cases/{case_id}/export",
)


async def key_id_of(pool: Pool, key: str) -> str:
    return await pool.fetchval("SELECT key_id FROM api_keys WHERE key_hash = $1", hash_key(key))


async def records_for(api: Any, case_id: str, want: int, **params: str) -> list[dict[str, Any]]:
    """The case's access records once at least `want` were written (the writer runs every
    half second, off the request path)."""
    for _ in range(100):
        response = await api.get("/access-log", role="auditor", params={"case_id": case_id, **params})
        assert response.status_code == 200, response.text
        records = response.json()["records"]
        if len(records) >= want:
            return records
        await asyncio.sleep(0.1)
    return records


async def test_each_kind_of_read_leaves_a_record_naming_the_key(api, pool, case_id):
    assert (await api.append(case_id, case_opened(), employment_started())).status_code == 201
    for path in READS:
        response = await api.get(path.format(case_id=case_id), role="auditor")
        # The export needs a signed checkpoint (404 before the first): recorded either way.
        assert response.status_code in ((200, 404) if path.endswith("export") else (200,)), response.text
    assert (await api.get("/events", role="auditor", params={"limit": 1000})).status_code == 200
    auditor = await key_id_of(pool, api.keys["auditor"])

    records = await records_for(api, case_id, len(READS) + 1)

    endpoints = {r["endpoint"] for r in records if r["key_id"] == auditor}
    assert {f"GET {path}" for path in READS} <= endpoints
    assert all(r["role"] == "auditor" and r["request_id"] for r in records if r["key_id"] == auditor)


async def test_a_feed_page_records_each_case_on_it(api, pool, case_id):
    appended = await api.append(case_id, case_opened())
    position = appended.json()["events"][0]["position"]
    page = await api.get("/events", role="auditor", params={"after": position - 1, "limit": 5})
    assert case_id in {e["case_id"] for e in page.json()["events"]}
    records = await records_for(api, case_id, 1)
    assert any(r["endpoint"] == "GET /events" and r["role"] == "auditor" for r in records)


async def test_a_worklist_page_records_each_case_on_it_by_name(api, case_id):
    """The worklist names its cases (no body to read back): one record, every case on the page."""
    await api.append(case_id, case_opened())
    request_id = f"worklist-{uuid.uuid4().hex}"
    headers = {**api.headers("auditor"), "X-Request-ID": request_id}
    page = await api.client.get("/closure-clock/worklist", params={"limit": 7}, headers=headers)
    assert page.status_code == 200, page.text
    on_page = [item["case_id"] for item in page.json()["items"]]
    assert on_page
    for _ in range(100):  # the writer runs every half second, off the request path
        records = await records_for(api, on_page[-1], 1, limit="500")
        if mine := [r for r in records if r["request_id"] == request_id]:
            break
        await asyncio.sleep(0.1)
    assert len(mine) == 1 and mine[0]["case_ids"] == on_page
    assert mine[0]["endpoint"] == "GET /closure-clock/worklist" and mine[0]["role"] == "auditor"


async def test_a_ui_page_records_the_signed_in_key(api, pool, case_id):
    await api.append(case_id, case_opened())
    signed = await api.client.post("/ui/sign-in", data={"key": api.keys["auditor"]})
    assert signed.status_code == 303
    try:
        assert (await api.client.get(f"/ui/cases/{case_id}")).status_code == 200
        records = await records_for(api, case_id, 1)
    finally:
        await api.client.post("/ui/sign-out")
    assert records[0]["endpoint"] == "GET /ui/cases/{case_id}"
    assert records[0]["key_id"] == await key_id_of(pool, api.keys["auditor"])


async def test_a_refused_read_is_recorded_and_others_are_filtered_by_actor(api, pool, case_id):
    await api.append(case_id, case_opened())
    provider = await api.key_for(pool, "provider", provider_id="prov-access")
    refused = await api.client.get(
        f"/cases/{case_id}/closure-clock", headers={"Authorization": f"Bearer {provider}"}
    )
    assert refused.status_code == 403
    records = await records_for(api, case_id, 1, actor="prov-access")
    assert records[0]["status"] == 403 and records[0]["role"] == "provider"


async def test_only_admin_and_auditor_read_the_access_log(api):
    assert (await api.get("/access-log", role="case_system")).status_code == 403
    assert (await api.get("/access-log", role="admin")).status_code == 200
    assert (await api.get("/access-log", role="auditor", params={"cursor": "x"})).status_code == 422


async def test_the_access_log_is_append_only_and_chained(api, owner_pool, case_id):
    await api.append(case_id, case_opened())
    await api.get(f"/cases/{case_id}/closure-clock")
    await records_for(api, case_id, 1)
    async with owner_pool.acquire() as conn:  # the triggers refuse even the tables' owner
        for statement in (
            "UPDATE access_log_batches SET hash = hash",
            "DELETE FROM access_log_batches",
            "TRUNCATE access_log_batches",
            "UPDATE access_log SET status = 200",
            "DELETE FROM access_log",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(statement)
        with pytest.raises(asyncpg.WrongObjectTypeError):  # a view: nothing to truncate
            await conn.execute("TRUNCATE access_log")
        rows = await conn.fetch("SELECT * FROM access_log ORDER BY position")
        batches = await conn.fetch("SELECT * FROM access_log_batches ORDER BY first_position")
    assert [row["position"] for row in rows] == list(range(rows[0]["position"], rows[-1]["position"] + 1))
    previous = GENESIS
    for row in rows:
        fields = {
            k: row[k]
            for k in ("at", "key_id", "role", "provider_id", "client", "endpoint", "request_id", "status")
        }
        record = AccessRecord(case_ids=tuple(row["case_ids"]), **fields)
        assert row["previous_hash"] == previous and row["hash"] == access_hash(previous, record)
        previous = row["hash"]
    for batch in batches:  # what a batch is found by covers every record in it
        inside = [r for r in rows if batch["first_position"] <= r["position"] <= batch["last_position"]]
        assert set(batch["case_ids"]) == {c for r in inside for c in r["case_ids"]}
        assert set(batch["actors"]) == {
            a for r in inside for a in (r["key_id"], r["role"], r["provider_id"]) if a
        }
        assert batch["first_at"] == min(r["at"] for r in inside) and batch["last_at"] == max(
            r["at"] for r in inside
        )


def test_the_command_line_answers_who_viewed_a_case(database_url, monkeypatch):
    """`caseledger access-log --case-id ID` (run outside the tests' event loop, as a shell would)."""
    import typer
    from typer.testing import CliRunner

    from app.cli import access_log as command
    from app.settings import get_settings
    from app.store import access_log as store
    from app.store.db import connect

    case_id = f"case-cli-{uuid.uuid4().hex[:8]}"
    record = AccessRecord(
        datetime.now(UTC),
        "k-cli",
        "auditor",
        None,
        "10.1.2.3",
        (case_id,),
        "GET /cases/{case_id}/ledger",
        "r-cli",
        200,
    )

    async def write() -> None:
        conn = await connect(database_url)
        try:
            await store.append_records(conn, [record])
        finally:
            await conn.close()

    asyncio.run(write())
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    cli = typer.Typer()
    command.register(cli)
    cli.command("noop")(lambda: None)  # a group, as in app.cli.main
    try:
        result = CliRunner().invoke(cli, ["access-log", "--case-id", case_id])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert (
        "k-cli" in result.output
        and "GET /cases/{case_id}/ledger" in result.output
        and case_id in result.output
    )
