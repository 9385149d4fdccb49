"""`caseledger` command line: serve, migrate, API keys, import, rebuild, verify."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer

from app.settings import get_settings

cli = typer.Typer(help="caseledger: closure clock and PBA payment ledger", no_args_is_help=True)
keys_cli = typer.Typer(help="API keys (stored hashed; a key is shown once)", no_args_is_help=True)
cli.add_typer(keys_cli, name="api-key")
T = TypeVar("T")


def database_url() -> str:
    """DATABASE_URL, or the embedded PostgreSQL in the project's data folder (started if needed)."""
    settings = get_settings()
    if settings.database_url:
        return settings.database_url
    from app.store.embedded_pg import start_embedded_postgres

    return start_embedded_postgres(settings.data_dir).url


def run(work: Callable[[str], Awaitable[T]]) -> T:
    return asyncio.run(work(database_url()))


async def _with_conn(url: str, work: Callable[[Any], Awaitable[T]]) -> T:
    from app.store.db import connect

    conn = await connect(url)
    try:
        return await work(conn)
    finally:
        await conn.close()


@cli.command()
def migrate() -> None:
    """Upgrade the database schema to the newest migration."""
    from app.store.migrations import upgrade_to_head

    run(upgrade_to_head)
    typer.echo("schema at head")


@cli.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int, typer.Option(help="uvicorn worker processes")] = 1,
) -> None:
    """Start the database if embedded, migrate, print a first admin key, serve HTTP."""
    import os

    import uvicorn

    from app.service.keys import any_admin_key, create_key
    from app.store.migrations import upgrade_to_head

    url = database_url()

    async def prepare(url: str) -> str | None:
        await upgrade_to_head(url)

        async def first_key(conn: Any) -> str | None:
            if await any_admin_key(conn):
                return None
            return (await create_key(conn, role="admin", label="first start"))[1]

        return await _with_conn(url, first_key)

    key = asyncio.run(prepare(url))
    if key:
        typer.echo(f"First start: an admin API key was created. It is shown once:\n\n  {key}\n", err=True)
    from app.observability.logs import configure_logging

    os.environ["DATABASE_URL"] = url
    configure_logging(get_settings().log_level)
    uvicorn.run(
        "app.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_config=None,
    )


@keys_cli.command("create")
def key_create(
    role: Annotated[str, typer.Option(help="case_system, provider, auditor or admin")],
    provider_id: Annotated[str | None, typer.Option("--provider-id")] = None,
    label: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Create a key and print it once."""
    from app.service.keys import create_key

    try:
        key_id, key = run(
            lambda url: _with_conn(
                url, lambda c: create_key(c, role=role, provider_id=provider_id, label=label)
            )
        )  # type: ignore[arg-type]
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"key_id: {key_id}", err=True)
    typer.echo(key)


@keys_cli.command("revoke")
def key_revoke(key_id: str) -> None:
    """Revoke a key by its key_id (takes effect within a few seconds)."""
    from app.service.keys import revoke_key

    if not run(lambda url: _with_conn(url, lambda c: revoke_key(c, key_id))):
        typer.echo(f"no active key {key_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {key_id}")


@keys_cli.command("list")
def key_list() -> None:
    """List keys (never the keys themselves)."""
    rows = run(
        lambda url: _with_conn(
            url,
            lambda c: c.fetch(
                "SELECT key_id, role, provider_id, label, created_at, revoked_at"
                " FROM api_keys ORDER BY created_at"
            ),
        )
    )
    for r in rows:
        state = f"revoked {r['revoked_at']:%Y-%m-%d}" if r["revoked_at"] else "active"
        typer.echo(
            f"{r['key_id']}  {r['role']:<12} {r['provider_id'] or '-':<12} {state}  {r['label'] or ''}"
        )


def _register_operations() -> None:
    """import / rebuild / verify live in app.cli_ops (bulk work with progress bars)."""
    from app.cli.ops_commands import register

    register(cli)


def main() -> None:
    _register_operations()
    cli(prog_name="caseledger")


if __name__ == "__main__":
    main()
    sys.exit(0)
