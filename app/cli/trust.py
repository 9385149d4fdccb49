"""`caseledger checkpoint | verify-checkpoints | verify-bundle`: evidence kept outside the database.

`checkpoint` signs the tree's head with a key the database never sees and writes it to a
folder (one file per checkpoint); `verify-checkpoints` checks the database against those
files; `verify-bundle` checks one exported case with the public key alone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import orjson
import typer

from app.cli.common import policy, with_pool
from app.settings import get_settings

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
    from app.ops.checkpoint import checkpoint_once, signer_from_key_file

    settings = get_settings()
    try:
        signer = signer_from_key_file(key, out, settings.checkpoint_origin)
    except (OSError, ValueError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    path, note = with_pool(lambda pool: checkpoint_once(pool, policy(), settings.policy_id(), signer))
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
    from app.ops.verify_checkpoints import verify_checkpoints
    from app.service.checkpoint_keys import load_verifier_key_file

    verifier = load_verifier_key_file(public_key)
    report = with_pool(
        lambda pool: verify_checkpoints(pool, checkpoints, verifier, policy(), read_models=read_models)
    )
    typer.echo(report.text())
    if not report.ok:
        raise typer.Exit(1)


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
