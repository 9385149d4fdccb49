"""The append's helpers in PL/pgSQL (issues 16 and 13): cheaper appends and first keys.

`caseledger_put_clock`, `caseledger_put_ledger` and `caseledger_put_data_key` were
LANGUAGE sql functions that PostgreSQL cannot inline (they write), so every call parsed
and planned their statements again; in PL/pgSQL their plans are kept for the session.
Same statements, results and errors. `caseledger_put_data_key` keeps SECURITY DEFINER,
now with the pinned search_path and grants of the other definer functions (app role,
not PUBLIC). The downgrade restores 0009's definitions.

The statements are this revision's own copies under `app/store/sql/migrations/0010/`.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op
from app.store.privileges import grant_app_role
from app.store.queries import migration_sql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _run(name: str) -> None:
    for statement in migration_sql("0010", name).split("\n--\n"):
        if statement.strip():
            op.execute(statement)


def upgrade() -> None:
    # Names the app role for this transaction first, so the data key function is granted to it.
    grant_app_role(op.get_bind())
    _run("plpgsql_helpers")


def downgrade() -> None:
    grant_app_role(op.get_bind())
    _run("plpgsql_helpers_down")
