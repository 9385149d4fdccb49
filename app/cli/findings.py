"""`caseledger findings [--csv]`: the auditor's exception report across all cases (issue 15)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from app.cli.common import with_pool


def findings_command(
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV on stdout instead of lines")] = False,
    rule: Annotated[str | None, typer.Option(help="only this rule id")] = None,
    provider_id: Annotated[str | None, typer.Option(help="only this provider's")] = None,
    eligible_days: Annotated[int, typer.Option(min=0, help="eligible this many days and still open")] = 90,
) -> None:
    """List every finding (imported refusals and the report rules), in date order."""
    from app.service.findings import all_findings, findings_csv
    from app.store.findings import FindingFilter

    f = FindingFilter(rule, None, None, provider_id, datetime.now(UTC).date(), eligible_days)

    async def work(pool: object) -> list[dict[str, object]]:
        async with pool.acquire() as conn:  # type: ignore[attr-defined]
            return await all_findings(conn, f)

    rows = with_pool(work)
    if as_csv:
        typer.echo(findings_csv(rows), nl=False)
        return
    for r in rows:
        typer.echo(f"{r['on_day'] or '-'}  {r['case_id']}  {r['rule']}  {r['detail']}  {r['history']}")
    typer.echo(f"{len(rows)} findings")


def register(cli: typer.Typer) -> None:
    cli.command("findings")(findings_command)
