"""`caseledger api-key create | revoke | list`: keys are stored hashed and shown once."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli.common import with_conn
from app.service import keys


def key_create(
    role: Annotated[str, typer.Option(help="case_system, provider, auditor or admin")],
    provider_id: Annotated[str | None, typer.Option("--provider-id")] = None,
    label: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Create a key and print it once."""
    try:
        key_id, key = with_conn(
            lambda c: keys.create_key(c, role=role, provider_id=provider_id, label=label)  # type: ignore[arg-type]
        )
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"key_id: {key_id}", err=True)
    typer.echo(key)


def key_revoke(key_id: str) -> None:
    """Revoke a key by its key_id (takes effect within a few seconds)."""
    if not with_conn(lambda c: keys.revoke_key(c, key_id)):
        typer.echo(f"no active key {key_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {key_id}")


def key_list() -> None:
    """List keys (never the keys themselves)."""
    for r in with_conn(keys.list_keys):
        state = f"revoked {r['revoked_at']:%Y-%m-%d}" if r["revoked_at"] else "active"
        typer.echo(
            f"{r['key_id']}  {r['role']:<12} {r['provider_id'] or '-':<12} {state}  {r['label'] or ''}"
        )


def register(cli: typer.Typer) -> None:
    keys_cli = typer.Typer(help="API keys (stored hashed; a key is shown once)", no_args_is_help=True)
    keys_cli.command("create")(key_create)
    keys_cli.command("revoke")(key_revoke)
    keys_cli.command("list")(key_list)
    cli.add_typer(keys_cli, name="api-key")
