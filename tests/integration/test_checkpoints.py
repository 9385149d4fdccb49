"""What the owner of the database can do to history, and how `verify` with checkpoints names it.

Each tampering is done as the owner with the append-only triggers off, then covered up
as well as the owner can (hashes recomputed, `rebuild` run): the plain hash-chain
`verify` passes, and only the signed checkpoints kept outside the database give it away.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import asyncpg
import pytest
import typer
from typer.testing import CliRunner

from app.cli import trust as trust_cli
from app.domain.checkpoint import Checkpoint, sign_checkpoint
from app.domain.policy import DEFAULT_POLICY
from app.ops.checkpoint import checkpoint_once, signer_from_key_file
from app.ops.rebuild import rebuild
from app.ops.verify import verify_all
from app.ops.verify_checkpoints import CheckpointReport, verify_checkpoints
from app.service.checkpoint_keys import load_verifier_key_file
from app.service.checkpointing import Signer
from app.store.pool import Pool
from app.store.streams import StoredEvent, read_stream
from tests.builders import authorization, case_opened, employment_started, paid
from tests.conftest import Api, make_api

ORIGIN = "caseledger.test/ledger"


@dataclass
class Ledger:
    url: str
    pool: Pool
    api: Api
    signer: Signer
    public_key: Path

    async def checkpoint(self) -> None:
        await settled(self.pool)
        await checkpoint_once(self.pool, DEFAULT_POLICY, "default", self.signer)

    async def verify(self, *, hash_workers: int = 0) -> CheckpointReport:
        verifier = load_verifier_key_file(self.public_key)
        return await verify_checkpoints(
            self.pool, self.signer.out_dir, verifier, DEFAULT_POLICY, url=self.url, hash_workers=hash_workers
        )


async def settled(pool: Pool) -> None:
    """Wait until every stored event lies below the feed's horizon (transaction ids are the
    whole server's: another session's open transaction holds the horizon back a moment)."""
    async with pool.acquire() as conn:
        for _ in range(200):
            if await conn.fetchval(
                "SELECT coalesce(max(position), 0)"
                " < (pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 20) FROM events"
            ):
                return
            await asyncio.sleep(0.05)
    raise AssertionError("the feed's horizon did not pass the last event within 10 s")


async def _open_case(api: Api, case_id: str, *, paid_amount: str = "1000.00") -> None:
    response = await api.append(
        case_id,
        case_opened(),
        employment_started(start="2024-02-01"),
        authorization("A1", "2024-02-05", "2024-03-31", amount=paid_amount),
        paid("A1", "2024-04-15", amount=paid_amount),
    )
    assert response.status_code == 201, response.text


@pytest.fixture
async def ledger(fresh: tuple[str, Pool], tmp_path: Path) -> AsyncIterator[Ledger]:
    """Five cases, a checkpoint, two more cases, a second checkpoint."""
    url, pool = fresh
    key = tmp_path / "signing.key"
    signer = signer_from_key_file(key, tmp_path / "checkpoints", ORIGIN)
    async for api in make_api(url, pool):
        result = Ledger(url, pool, api, signer, key.with_name("signing.key.pub"))
        for case_id in ("rewritten", "tail", "deleted", "swap-1", "forged"):
            await _open_case(api, case_id)
        await result.checkpoint()
        for case_id in ("swap-2", "later"):
            await _open_case(api, case_id)
        await result.checkpoint()
        yield result


async def _as_owner(pool: Pool, work: Callable[[asyncpg.Connection], Awaitable[None]]) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("ALTER TABLE events DISABLE TRIGGER ALL")
        await work(conn)
        await conn.execute("ALTER TABLE events ENABLE TRIGGER ALL")


async def _rewrite_job_start(conn: asyncpg.Connection) -> None:
    """The job start date moved, and every hash of the case recomputed from there on."""
    events, previous = await read_stream(conn, "rewritten"), "0" * 64
    for event in events:
        data = {**event.data, "start_date": "2024-01-10"} if event.type == "EmploymentStarted" else event.data
        changed = StoredEvent(*[*vars_of(event)[:6], data, *vars_of(event)[7:9], ""])
        new_hash = changed.expected_hash(previous)
        await conn.execute(
            "UPDATE events SET data = $1, hash = $2 WHERE case_id = $3 AND version = $4",
            data,
            new_hash,
            event.case_id,
            event.version,
        )
        previous = new_hash


def vars_of(event: StoredEvent) -> list[object]:
    return [getattr(event, name) for name in StoredEvent.__slots__]


async def _delete_tail(conn: asyncpg.Connection) -> None:
    await conn.execute("DELETE FROM events WHERE case_id = 'tail' AND version = 4")  # the $1,000.00 payment


async def _delete_case(conn: asyncpg.Connection) -> None:
    await conn.execute("DELETE FROM events WHERE case_id = 'deleted'")


async def _insert_event(conn: asyncpg.Connection) -> None:
    """A case opened in the past: a well-formed row at a position the tree already passed."""
    first = (await read_stream(conn, "forged"))[0]
    planted = StoredEvent(
        first.position + 100,
        "planted",
        1,
        uuid4(),
        first.type,
        1,
        first.data,
        first.metadata,
        first.recorded_at,
        "",
    )
    await conn.execute(
        "INSERT INTO events (position, case_id, version, event_id, type, schema_version, data, metadata,"
        " recorded_at, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        *vars_of(planted)[:9],
        planted.expected_hash("0" * 64),
    )


async def _swap_positions(conn: asyncpg.Connection) -> None:
    one = (await read_stream(conn, "swap-1"))[1].position
    two = (await read_stream(conn, "swap-2"))[1].position
    await conn.execute("UPDATE events SET position = -1 WHERE position = $1", one)
    await conn.execute("UPDATE events SET position = $1 WHERE position = $2", one, two)
    await conn.execute("UPDATE events SET position = $1 WHERE position = -1", two)


async def _forge_clock_row(conn: asyncpg.Connection) -> None:
    await conn.execute(
        "UPDATE closure_clock SET phase = 'in_follow_up', clock_start = '2023-01-01',"
        " eligible_on = '2023-04-01' WHERE case_id = 'forged'"
    )


TAMPERINGS = {
    "case_rewritten": (_rewrite_job_start, "rewritten"),
    "tail_deleted": (_delete_tail, "tail"),
    "case_deleted": (_delete_case, "deleted"),
    "event_inserted": (_insert_event, "planted"),
    "events_reordered": (_swap_positions, "swap-1"),
    "read_model_differs": (_forge_clock_row, "forged"),
}


async def test_an_untouched_database_gives_every_checkpoint(ledger: Ledger) -> None:
    report = await ledger.verify()
    assert report.ok, report.text()
    assert report.checkpoints == 2 and report.events == 28
    # one policy leaf, then 4 events per case
    assert sorted(p.name for p in ledger.signer.out_dir.iterdir()) == ["21.checkpoint", "29.checkpoint"]


@pytest.mark.parametrize("code", list(TAMPERINGS))
async def test_each_tampering_is_named(ledger: Ledger, code: str) -> None:
    tamper, case_id = TAMPERINGS[code]
    await _as_owner(ledger.pool, tamper)
    if code != "read_model_differs":  # the owner covers the read models up too
        await rebuild(ledger.pool, DEFAULT_POLICY)
    if code not in ("events_reordered", "read_model_differs", "event_inserted"):
        assert (await verify_all(ledger.pool)).ok  # the hash chains alone see nothing
    report = await ledger.verify()
    assert not report.ok
    named = {(f.code, f.case_id) for f in report.findings}
    assert (code, case_id) in named, report.text()
    if code != "read_model_differs":
        assert "checkpoint_not_reproduced" in report.codes(), report.text()
    else:
        assert "checkpoint_not_reproduced" not in report.codes(), report.text()


@pytest.mark.parametrize("code", ["untouched", *(c for c in TAMPERINGS if c != "read_model_differs")])
async def test_hash_workers_find_what_one_process_finds(ledger: Ledger, code: str) -> None:
    """A large log's hashes are recomputed in worker processes, each on its own range of
    positions and the verifier's snapshot: the report must be the same, finding by finding."""
    if code != "untouched":
        await _as_owner(ledger.pool, TAMPERINGS[code][0])
    alone = await ledger.verify()
    with_workers = await ledger.verify(hash_workers=2)
    assert with_workers == alone, with_workers.text()
    assert with_workers.ok == (code == "untouched")


def test_a_report_claims_the_read_models_only_when_they_were_compared() -> None:
    assert "read models" in CheckpointReport(1, 5).text()
    assert "read models" not in CheckpointReport(1, 5, read_models_checked=False).text()


async def test_a_checkpoint_signed_by_another_key_is_refused(ledger: Ledger, tmp_path: Path) -> None:
    other = signer_from_key_file(tmp_path / "other.key", ledger.signer.out_dir, ORIGIN)
    forged = Checkpoint(ORIGIN, 30, bytes(32), 1, datetime.now(UTC))
    (ledger.signer.out_dir / "30.checkpoint").write_text(sign_checkpoint(forged, other.key, ORIGIN))
    report = await ledger.verify()
    assert not report.ok and "unknown_key" in report.codes(), report.text()


def test_the_cli_signs_and_verifies_and_exits_1_naming_a_deleted_case(
    fresh: tuple[str, Pool], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.settings import get_settings

    url, _ = fresh
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    cli = typer.Typer()
    trust_cli.register(cli)
    runner = CliRunner()
    asyncio.run(_seed(url, ["kept", "gone"]))
    key, out = tmp_path / "k", tmp_path / "out"
    signed = runner.invoke(cli, ["checkpoint", "--key", str(key), "--out", str(out)])
    assert signed.exit_code == 0, signed.output
    assert (out / "9.checkpoint").read_text() in signed.output
    args = ["verify-checkpoints", "--checkpoints", str(out), "--public-key", f"{key}.pub"]
    passed = runner.invoke(cli, args)
    assert passed.exit_code == 0, passed.output
    asyncio.run(_tamper_url(url, _delete_gone))
    failed = runner.invoke(cli, args)
    assert failed.exit_code == 1
    assert "case_deleted: case gone version 1" in failed.output
    get_settings.cache_clear()


async def _delete_gone(conn: asyncpg.Connection) -> None:
    await conn.execute("DELETE FROM events WHERE case_id = 'gone'")


async def _seed(url: str, case_ids: list[str]) -> None:
    from app.store.db import create_pool

    pool = await create_pool(url, min_size=1, max_size=4)
    try:
        async for api in make_api(url, pool):
            for case_id in case_ids:
                await _open_case(api, case_id)
        await settled(pool)
    finally:
        await pool.close()


async def _tamper_url(url: str, work: Callable[[asyncpg.Connection], Awaitable[None]]) -> None:
    from app.store.db import create_pool

    pool = await create_pool(url, min_size=1, max_size=2)
    try:
        await _as_owner(pool, work)
    finally:
        await pool.close()
