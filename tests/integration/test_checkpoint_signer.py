"""The service's interval signer: configured with a key, it keeps signing as events arrive."""

from __future__ import annotations

import asyncio
from pathlib import Path

from app.domain.policy import DEFAULT_POLICY
from app.service.checkpoint_signer import interval_signer
from app.settings import Settings
from app.store.pool import Pool
from tests.builders import case_opened
from tests.conftest import make_api


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


async def _files_after(folder: Path, seconds: float) -> list[str]:
    for _ in range(int(seconds / 0.05)):
        if names := await asyncio.to_thread(_names, folder):
            return names
        await asyncio.sleep(0.05)
    return []


async def test_a_configured_signer_writes_checkpoints_and_none_runs_without_a_key(
    fresh: tuple[str, Pool], tmp_path: Path
) -> None:
    url, pool = fresh
    async for api in make_api(url, pool):
        assert (await api.append("signed-case", case_opened())).status_code == 201
    out = tmp_path / "checkpoints"
    unconfigured = Settings(database_url=url, checkpoint_dir=out)
    async with interval_signer(unconfigured, pool, lambda: DEFAULT_POLICY):
        assert await _files_after(out, 0.3) == []
    settings = Settings(
        database_url=url,
        checkpoint_key_file=tmp_path / "service.key",
        checkpoint_dir=out,
        checkpoint_interval_seconds=0.05,
    )
    async with interval_signer(settings, pool, lambda: DEFAULT_POLICY):
        files = await _files_after(out, 10)
    assert files and all(name.endswith(".checkpoint") for name in files)
    assert await asyncio.to_thread((tmp_path / "service.key.pub").exists)
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM checkpoints") >= 1
