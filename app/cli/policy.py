"""`caseledger policy ...`: adopt a version, list the recorded ones, verify their chain, preview.

The same use cases as `POST /policy/versions`, `GET /policy/versions` and
`POST /policy/preview` (docs/policy.md), run with the operator's database URL.
"""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from app.cli.common import with_pool
from app.service import policy as policies
from app.service.errors import ServiceError
from app.service.policy_preview import preview, refresh_changed
from app.settings import get_settings
from app.store.pool import Pool

app = typer.Typer(help="the policy table as recorded history", no_args_is_help=True)
RowFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="JSON: one policy row")]


def _row(file: Path) -> Any:
    try:
        return policies.parse_version(orjson.loads(file.read_bytes()))
    except (ServiceError, orjson.JSONDecodeError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None


async def _current(pool: Pool) -> Any:
    settings = get_settings()
    return await policies.recorded_table(pool, settings.policy_table(), settings.policy_id())


def _echo(value: Any) -> None:
    typer.echo(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode())


@app.command("adopt")
def adopt_command(
    file: RowFile,
    by: Annotated[str | None, typer.Option(help="who adopts it (default cli:<user>)")] = None,
) -> None:
    """Adopt the version in FILE and refresh the stored clock and ledger of the cases it changes."""
    version = _row(file)
    adopted_by = by or f"cli:{getpass.getuser()}"

    async def work(pool: Pool) -> dict[str, Any]:
        await _current(pool)
        adopted = await policies.adopt(pool, version, adopted_by=adopted_by)
        today = datetime.now(UTC).date()
        refreshed = await refresh_changed(pool, adopted.before, version, adopted.after, today=today)
        return {**policies.listed([adopted.row], None)[0], "refreshed_cases": refreshed}

    _echo(with_pool(work))


@app.command("list")
def list_command(
    known_at: Annotated[datetime | None, typer.Option(help="only versions adopted by then")] = None,
) -> None:
    """Every recorded version with who adopted it and when."""

    async def work(pool: Pool) -> list[dict[str, Any]]:
        await _current(pool)
        async with pool.acquire() as conn:
            stored = await policies.stored_versions(conn)
        moment = known_at.replace(tzinfo=known_at.tzinfo or UTC) if known_at else None
        return policies.listed(stored, moment)

    _echo(with_pool(work))


@app.command("verify")
def verify_command() -> None:
    """Recompute the policy versions' hash chain; exit 1 if anything breaks it."""

    async def work(pool: Pool) -> list[str]:
        async with pool.acquire() as conn:
            return await policies.verify_chain(conn)

    problems = with_pool(work)
    for problem in problems:
        typer.echo(problem, err=True)
    typer.echo("policy chain: ok" if not problems else f"policy chain: {len(problems)} problem(s)")
    if problems:
        raise typer.Exit(1)


@app.command("preview")
def preview_command(file: RowFile) -> None:
    """Every case whose clock or ledger amounts adopting FILE would change (adopts nothing)."""
    version = _row(file)

    async def work(pool: Pool) -> list[dict[str, Any]]:
        current, cursor, changes = await _current(pool), None, []
        while True:
            page = await preview(
                pool, current, version, today=datetime.now(UTC).date(), cursor=cursor, limit=1000
            )
            changes += page.changes
            if page.next_cursor is None:
                return changes
            cursor = page.next_cursor

    _echo(with_pool(work))


def register(cli: typer.Typer) -> None:
    cli.add_typer(app, name="policy")
