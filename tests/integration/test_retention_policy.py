"""`retention_years` in the recorded policy (issue 13, item 3): adopted from a file, listed,
hash-chained; migration 0009 down and up keeps the recorded versions and their chain (the
HTTP adoption is in `test_retention.py`)."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from alembic import command
from app.cli.main import build_cli
from app.domain.policy import DEFAULT_POLICY
from app.service import policy as policies
from app.settings import get_settings
from app.store.db import create_pool
from app.store.migrations import alembic_config, upgrade_to_head
from app.store.pool import Pool
from tests.conftest import Databases

ROW = {
    "effective_from": "2030-01-01",
    "closure_wait_days": 90,
    "milestone_rates": {
        "placement_plan_signed": "1000.00",
        "job_hire": "1300.00",
        "successful_placement": "1500.00",
    },
    "pba_cap_per_consumer": "3800.00",
    "retention_years": 7,
}


def test_the_cli_adopts_lists_and_verifies_a_retention_period(
    fresh: tuple[str, Pool], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = fresh
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    row = tmp_path / "seven.json"
    row.write_text(json.dumps(ROW))
    runner, cli = CliRunner(), build_cli()
    try:
        adopted = runner.invoke(cli, ["policy", "adopt", str(row), "--by", "records officer"])
        assert adopted.exit_code == 0, adopted.output
        listed = json.loads(runner.invoke(cli, ["policy", "list"]).stdout)
        assert [v["retention_years"] for v in listed] == [5, 7]
        assert runner.invoke(cli, ["policy", "verify"]).exit_code == 0
        row.write_text(json.dumps({**ROW, "retention_years": 0}))
        refused = runner.invoke(cli, ["policy", "adopt", str(row)])
        assert refused.exit_code == 2 and "retention_years" in refused.output
    finally:
        get_settings.cache_clear()


async def test_migration_0009_goes_down_and_up_keeping_the_recorded_versions(databases: Databases) -> None:
    url = await databases.create()
    pool = await create_pool(url, min_size=1, max_size=2)
    try:
        seeded = await policies.recorded_table(pool, DEFAULT_POLICY, "default")
        await asyncio.to_thread(command.downgrade, alembic_config(url), "0007")
        async with pool.acquire() as conn:
            columns = await conn.fetch(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'policy_versions'"
            )
        assert "retention_years" not in {c["column_name"] for c in columns}
        await upgrade_to_head(url)
        async with pool.acquire() as conn:
            assert await policies.verify_chain(conn) == []  # the hashes never covered a default period
            table = policies.table_of(await policies.stored_versions(conn))
        assert table.versions == seeded.versions and table.retention_years(date(2026, 1, 1)) == 5
    finally:
        await pool.close()
