"""`caseledger checkpoint | verify-checkpoints | verify-bundle`: evidence kept outside the database.

`checkpoint` signs the tree's head with a key the database never sees and writes it to a
folder (one file per checkpoint); `verify-checkpoints` checks the database against those
files; `verify-bundle` checks one exported case with the public key alone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from app.cli.common import database_url, with_pool
from app.service import policy as policies
from app.settings import get_settings
from app.store.pool import Pool

PublicKey = Annotated[
    Path, typer.Option("--public-key", exists=True, dir_okay=False, help="the signer's FILE.pub")
]


def checkpoint_command(
    key: Annotated[
        Path, typer.Option("--key", dir_okay=False, help="Ed25519 key file (created when missing)")
    ],
    out: Annotated[Path, typer.Option("--out", file_okay=False, help="folder for <size>.checkpoint files")],
) -> None:
    """Extend the tree over the stable prefix, sign a checkpoint, write it to OUT and record it."""
    from app.ops.checkpoint import signer_from_key_file

    settings = get_settings()
    try:
        signer = signer_from_key_file(key, out, settings.checkpoint_origin)
    except (OSError, ValueError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    path, note = with_pool(lambda pool: _checkpoint_with_recorded_policy(pool, signer))
    typer.echo(f"wrote {path}", err=True)
    typer.echo(note, nl=False)


def verify_checkpoints_command(
    checkpoints: Annotated[
        Path, typer.Option("--checkpoints", exists=True, file_okay=False, help="folder of .checkpoint files")
    ],
    public_key: PublicKey,
    read_models: Annotated[
        bool, typer.Option(help="also compare the read models with a fresh fold of the events")
    ] = True,
) -> None:
    """Check every checkpoint's signature, each one against the next, and that the events still give them.

    Exits 1 and names what it found (case_rewritten, tail_deleted, case_deleted,
    event_inserted, events_reordered, read_model_differs, ...).
    """
    from app.service.checkpoint_keys import load_verifier_key_file

    verifier = load_verifier_key_file(public_key)
    report = with_pool(lambda pool: _verify_against_recorded_policy(pool, checkpoints, verifier, read_models))
    typer.echo(report.text())
    if not report.ok:
        raise typer.Exit(1)


async def _checkpoint_with_recorded_policy(pool: Pool, signer: Any) -> tuple[Path, str]:
    """Sign over the policy table as recorded (every adoption gets its leaf), as the service's
    own signer does: with the configured file alone, adoptions would never be covered and
    every export after one would be refused until the service signed."""
    from app.ops.checkpoint import checkpoint_once

    settings = get_settings()
    table = await policies.recorded_table(pool, settings.policy_table(), settings.policy_id())
    return await checkpoint_once(pool, table, settings.policy_id(), signer)


async def _verify_against_recorded_policy(
    pool: Pool, checkpoints: Path, verifier: Any, read_models: bool
) -> Any:
    """The checkpoints' policy leaves and the read models' fresh fold both need the recorded
    table (with its adoptions), not the configured file."""
    from app.ops.verify_checkpoints import verify_checkpoints

    async with pool.acquire() as conn:
        stored = await policies.stored_versions(conn)
    table = policies.table_of(stored) if stored else get_settings().policy_table()  # never written to
    # With the URL, a large log's hashes are recomputed by worker processes (verify_hashers).
    return await verify_checkpoints(
        pool, checkpoints, verifier, table, read_models=read_models, url=database_url()
    )


def verify_bundle_command(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="a case bundle (GET /cases/{id}/export)")
    ],
    public_key: PublicKey,
    as_of: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="judge the clock on this day (default today)"),
    ] = None,
) -> None:
    """Check an exported case offline and print its replayed closure clock and ledger as JSON."""
    from app.ops.verify_bundle import check_bundle

    day: date = as_of.date() if as_of else datetime.now(UTC).date()
    result = check_bundle(file.read_bytes(), public_key, day)
    if not result.ok:
        for finding in result.findings:
            typer.echo(f"{finding.code}: {finding.where}: {finding.detail}", err=True)
        raise typer.Exit(1)
    answer = {"ok": True, "closure_clock": result.closure_clock, "ledger": result.ledger}
    typer.echo(orjson.dumps(answer, option=orjson.OPT_INDENT_2).decode())


def register(cli: typer.Typer) -> None:
    cli.command("checkpoint")(checkpoint_command)
    cli.command("verify-checkpoints")(verify_checkpoints_command)
    cli.command("verify-bundle")(verify_bundle_command)
