"""`caseledger`: the command line. Each module of this package registers its commands here.

serve and migrate (`server`), API keys (`keys`), import, rebuild and verify (`bulk`),
signed checkpoints and offline bundles (`trust`), retention runs (`retention`).
"""

from __future__ import annotations

import typer

from app.cli import access_log, bulk, findings, keys, openapi, policy, retention, server, trust


def build_cli() -> typer.Typer:
    """The whole command tree, every command registered (tests invoke it with CliRunner)."""
    cli = typer.Typer(help="caseledger: closure clock and PBA payment ledger", no_args_is_help=True)
    for module in (server, keys, bulk, trust, findings, access_log, policy, retention, openapi):
        module.register(cli)
    return cli


cli = build_cli()


def main() -> None:
    cli(prog_name="caseledger")


if __name__ == "__main__":
    main()
