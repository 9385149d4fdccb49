"""`caseledger openapi [--out FILE]`: write the app's own OpenAPI document (openapi.yaml).

`tests/integration/test_openapi.py` fails when the committed file differs from
what the app describes, so this is run after any change to a route or a schema.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def openapi(
    out: Annotated[Path | None, typer.Option(help="default: openapi.yaml at the root")] = None,
) -> None:
    """Write the OpenAPI document the service serves."""
    from app.web.app import create_app
    from app.web.openapi_doc import OPENAPI_FILE, render

    target = out or OPENAPI_FILE
    target.write_text(render(create_app()))
    typer.echo(f"wrote {target}")


def register(cli: typer.Typer) -> None:
    cli.command()(openapi)
