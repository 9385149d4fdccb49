"""`caseledger migrate | serve`: bring the schema to head as its owner, then serve HTTP
as the app role, which can read and append but not rewrite (docs/operations.md)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from typing import Annotated

import typer

from app.cli.common import app_database_url, database_url, run, with_conn
from app.settings import get_settings

MIGRATE_IN_CHILD = "from app.cli.server import migrate_for_serving; migrate_for_serving()"


def migrate() -> None:
    """Upgrade the schema to the newest migration and grant the app role (run as the owner)."""
    from app.store.migrations import upgrade_to_head

    run(upgrade_to_head)
    typer.echo("schema at head")


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int, typer.Option(help="uvicorn worker processes")] = 1,
) -> None:
    """Start the database if embedded, migrate, print a first admin key, serve HTTP."""
    import uvicorn

    from app.observability.logs import configure_logging
    from app.service.keys import first_admin_key
    from app.web.connection_limits import server_options

    url = app_database_url()
    _migrate_before_serving(url)
    key = with_conn(first_admin_key)
    if key:
        typer.echo(f"First start: an admin API key was created. It is shown once:\n\n  {key}\n", err=True)
    os.environ["DATABASE_URL"] = url
    configure_logging(get_settings().log_level)
    uvicorn.run(
        "app.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        access_log=False,
        log_config=None,
        **server_options(),
    )


def _migrate_before_serving(app_url: str) -> None:
    """Bring the schema to head in a child process, which exits before serving starts.

    With one worker uvicorn serves in this very process, and a process keeps what it
    imported: Alembic, SQLAlchemy and the migration scripts (~30 MB) would stay in the
    worker's RSS for good (docs/performance.md section 7). The child gets both URLs as
    this process resolved them (the embedded server, if any, is already up).
    """
    env = dict(os.environ, DATABASE_URL=database_url(), CASELEDGER_APP_DATABASE_URL=app_url)
    done = subprocess.run([sys.executable, "-c", MIGRATE_IN_CHILD], env=env, check=False)
    if done.returncode:
        raise typer.Exit(done.returncode)


def migrate_for_serving() -> None:
    """`_migrate_for_serving`, with a database that cannot be reached or migrated said in one
    line (a newcomer's wrong URL is not a bug to show a traceback for)."""
    import asyncpg
    from sqlalchemy.exc import SQLAlchemyError

    try:
        _migrate_for_serving()
    except (OSError, TimeoutError, asyncpg.PostgresError, SQLAlchemyError) as exc:
        reason = getattr(exc, "orig", None) or exc  # SQLAlchemy wraps the driver's error
        typer.echo(f"caseledger serve: the database could not be migrated: {reason}", err=True)
        raise SystemExit(1) from None


def _migrate_for_serving() -> None:
    """As the owner, migrate; serve as the app role (run by `_migrate_before_serving`'s child).

    With both DATABASE_URL (owner) and CASELEDGER_APP_DATABASE_URL set (or embedded),
    the owner's URL migrates. With one URL only, it migrates when the schema is behind
    (which only the owner can do) and serving as the owner is warned about.
    """
    from app.store.migrations import schema_status, upgrade_to_head

    app_url = app_database_url()
    if database_url() != app_url:
        run(upgrade_to_head)
        return
    at_head, owns_tables = asyncio.run(schema_status(app_url))
    if not at_head:
        run(upgrade_to_head)
        owns_tables = True
    if owns_tables:
        typer.echo(
            "warning: serving as the owner of the tables, which can rewrite history; "
            "serve with the app role's URL (docs/operations.md, least privilege)",
            err=True,
        )


def register(cli: typer.Typer) -> None:
    cli.command()(migrate)
    cli.command()(serve)
