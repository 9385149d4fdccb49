"""`caseledger import | rebuild | verify`: the operator's bulk commands, with progress bars.

A pool on the configured database, the policy table the service uses, a
progress bar on stderr, and the summary on stdout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import DEFAULT_WORKERS, database_url, policy, progress_bar, with_pool
from app.ops.bulk_import import DEFAULT_BATCH
from app.store.bulk import count_streams
from app.store.pool import Pool


def import_command(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            readable=True,
            help="NDJSON: one {case_id, event_id, type, data, metadata} per line",
        ),
    ],
    batch_size: Annotated[
        int, typer.Option(min=1, max=100_000, help="lines per transaction")
    ] = DEFAULT_BATCH,
    rejects: Annotated[
        Path | None, typer.Option(help="where refused lines go (default: FILE.rejects.ndjson)")
    ] = None,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="processes, each importing its share of the cases")
    ] = DEFAULT_WORKERS,
) -> None:
    """Append a case-system export through the API's rules; safe to re-run.

    Exits 1 when any line was refused (see the reject file).
    """
    from app.ops.bulk_import import default_rejects_path, import_file
    from app.service.master_key_file import master_key_of
    from app.settings import get_settings

    rejects_path = rejects or default_rejects_path(file)
    with progress_bar("import (bytes)", file.stat().st_size) as advance:
        if workers > 1:
            from app.ops.workers import import_in_workers

            summary = import_in_workers(
                database_url(),
                file,
                workers=workers,
                batch_size=batch_size,
                rejects_path=rejects_path,
                progress=advance,
            )
        else:
            summary = with_pool(
                lambda pool: import_file(
                    pool,
                    file,
                    batch_size=batch_size,
                    rejects_path=rejects_path,
                    policy=policy(),
                    progress=advance,
                    master_key=master_key_of(get_settings()),  # seals as the service does
                )
            )
    typer.echo(summary.text())
    if summary.rejected:
        raise typer.Exit(1)


def rebuild_command(
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="processes, each replaying its range of cases")
    ] = DEFAULT_WORKERS,
) -> None:
    """Rebuild every read model from the log and report whether the live rows had drifted."""
    from app.ops.rebuild import rebuild

    url = database_url()
    with progress_bar("rebuild (cases)", with_pool(_count_cases)) as advance:
        report = with_pool(lambda pool: rebuild(pool, policy(), progress=advance, workers=workers, url=url))
    typer.echo(report.text())


def verify_command(
    checkpoints: Annotated[
        Path | None,
        typer.Option(file_okay=False, exists=True, help="folder of signed .checkpoint files"),
    ] = None,
    public_key: Annotated[
        Path | None, typer.Option(dir_okay=False, exists=True, help="the checkpoint key's FILE.pub")
    ] = None,
) -> None:
    """Check every case's hash chain (exit 1 and the broken cases when any breaks).

    With --checkpoints and --public-key: also every signed checkpoint, each against
    the next, and that the events still produce them (`verify-checkpoints`).
    """
    from app.ops.verify import verify_all

    if (checkpoints is None) != (public_key is None):
        typer.echo("error: --checkpoints and --public-key go together", err=True)
        raise typer.Exit(2)
    if checkpoints is not None and public_key is not None:
        from app.cli.trust import verify_checkpoints_command

        verify_checkpoints_command(checkpoints, public_key)

    with progress_bar("verify (cases)", with_pool(_count_cases)) as advance:
        report = with_pool(lambda pool: verify_all(pool, progress=advance))
    typer.echo(report.text())
    if not report.ok:
        raise typer.Exit(1)


async def _count_cases(pool: Pool) -> int:
    """The bar's total: streams in the log (read models may be the thing that is wrong)."""
    async with pool.acquire() as conn:
        return await count_streams(conn)


def register(cli: typer.Typer) -> None:
    cli.command("import")(import_command)
    cli.command("rebuild")(rebuild_command)
    cli.command("verify")(verify_command)
