"""`caseledger retention run [--dry-run] [--today DATE]`: destroy the personal data that is due.

Runs with the service's database role (`CASELEDGER_APP_DATABASE_URL`, else
`DATABASE_URL`): it appends through the append function and destroys keys through
`caseledger_destroy_data_keys`, both granted to that role; it needs no master key.
Schedule it daily (docs/privacy.md). Exit status 1 when a case refused its destruction.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Annotated

import asyncpg
import typer

from app.cli.common import app_database_url
from app.ops.retention import RetentionReport, run_retention
from app.service import policy as policies
from app.service.errors import ServiceError
from app.settings import get_settings

app = typer.Typer(
    help="retention: destroy the personal data of cases closed long enough ago", no_args_is_help=True
)


async def _run(url: str, today: date, dry_run: bool) -> RetentionReport:
    from app.store.db import create_pool

    settings = get_settings()
    pool = await create_pool(url, min_size=1, max_size=5)
    try:
        # The policy as recorded now (seeded from the configured file if still empty).
        table = await policies.recorded_table(pool, settings.policy_table(), settings.policy_id())
        return await run_retention(pool, table, today=today, dry_run=dry_run)
    finally:
        await pool.close()


@app.command("run")
def run_command(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="print what would be done; change nothing")
    ] = False,
    today: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="judge as of this date (not after today)")
    ] = None,
) -> None:
    """Destroy the data key of every case closed the policy's retention_years or more ago and
    not under a legal hold, recording CaseRecordsDestroyed; print what was done."""
    day = today.date() if today else datetime.now(UTC).date()
    try:
        report = asyncio.run(_run(app_database_url(), day, dry_run))
    except ServiceError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    except (OSError, asyncpg.PostgresError) as error:
        typer.echo(f"error: the database: {error}", err=True)
        raise typer.Exit(2) from None
    for line in report.lines():
        typer.echo(line)
    if report.refused:
        raise typer.Exit(1)


def register(cli: typer.Typer) -> None:
    cli.add_typer(app, name="retention")
