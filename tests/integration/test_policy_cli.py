"""`caseledger policy adopt|list|verify|preview` on a fresh database (docs/policy.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.store.pool import Pool
from tests.integration.test_policy_history import RAISED


def test_the_cli_seeds_adopts_lists_previews_and_verifies(
    fresh: tuple[str, Pool], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.cli.main import build_cli
    from app.cli.policy import register
    from app.settings import get_settings

    url, _ = fresh
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    cli = build_cli()
    if "policy" not in {group.name for group in cli.registered_groups}:
        register(cli)  # until app/cli/main.py registers the module itself
    row = tmp_path / "raise.json"
    row.write_text(json.dumps(RAISED))
    runner = CliRunner()
    try:
        preview = runner.invoke(cli, ["policy", "preview", str(row)])
        assert preview.exit_code == 0, preview.output
        assert json.loads(preview.stdout) == []
        adopted = runner.invoke(cli, ["policy", "adopt", str(row), "--by", "director"])
        assert adopted.exit_code == 0, adopted.output
        assert json.loads(adopted.stdout)["number"] == 2
        listed = json.loads(runner.invoke(cli, ["policy", "list"]).stdout)
        assert [(v["number"], v["adopted_by"]) for v in listed] == [
            (1, "seed: built-in default table"),
            (2, "director"),
        ]
        verified = runner.invoke(cli, ["policy", "verify"])
        assert verified.exit_code == 0 and "policy chain: ok" in verified.output
        bad = tmp_path / "bad.json"
        bad.write_text(json.dumps({**RAISED, "closure_wait_days": 0}))
        refused = runner.invoke(cli, ["policy", "adopt", str(bad)])
        assert refused.exit_code == 2 and "closure_wait_days" in refused.output
    finally:
        get_settings.cache_clear()
