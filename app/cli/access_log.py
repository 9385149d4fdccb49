"""`caseledger access-log [--case-id ID] [--actor A]`: who viewed this person's case;
`caseledger access-log --verify`: and that no record of it was changed or removed.

Reads the access record (`access_log`) straight from the database, oldest first,
one line per request: time, key, role, provider, client, endpoint, status, cases.
"""

from __future__ import annotations

from datetime import UTC
from typing import Annotated

import typer

from app.cli.common import with_conn
from app.ops.verify_access_log import verify_access_log
from app.store import access_log as store

PAGE = 1000


def access_log(
    case_id: Annotated[str | None, typer.Option("--case-id", help="records naming this case")] = None,
    actor: Annotated[str | None, typer.Option("--actor", help="a key id, role or provider id")] = None,
    verify: Annotated[
        bool, typer.Option("--verify", help="recompute the records' hash chain instead; exit 1 if broken")
    ] = False,
) -> None:
    """Print the access records, filtered by case and/or actor."""
    if verify:
        _verify()
        return
    after = 0
    while True:
        rows = with_conn(
            lambda c, after=after: store.page(
                c, after=after, case_id=case_id, actor=actor, since=None, until=None, limit=PAGE
            )
        )
        for r in rows:
            typer.echo(
                f"{r['at'].astimezone(UTC):%Y-%m-%dT%H:%M:%S}Z  {r['key_id'] or '-'}  {r['role'] or '-'}  "
                f"{r['provider_id'] or '-'}  {r['client'] or '-'}  {r['endpoint']}  {r['status']}  "
                f"{','.join(r['case_ids'])}"
            )
        if len(rows) < PAGE:
            return
        after = rows[-1]["position"]


def _verify() -> None:
    check = with_conn(verify_access_log)
    for problem in check.problems:
        typer.echo(problem, err=True)
    if check.problems:
        typer.echo(f"access record chain: {len(check.problems)} problem(s)")
        raise typer.Exit(1)
    typer.echo(
        f"access record chain: ok ({check.records} records in {check.batches} batches, head {check.head})"
    )


def register(cli: typer.Typer) -> None:
    cli.command("access-log")(access_log)
