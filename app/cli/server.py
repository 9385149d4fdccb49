"""`caseledger migrate | serve`: bring the schema to head, then serve HTTP."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from app.cli.common import database_url, run, with_conn
from app.settings import get_settings


def migrate() -> None:
    """Upgrade the database schema to the newest migration."""
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
    from app.store.migrations import upgrade_to_head
    from app.web.connection_limits import server_options

    url = database_url()
    run(upgrade_to_head)
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


def register(cli: typer.Typer) -> None:
    cli.command()(migrate)
    cli.command()(serve)
