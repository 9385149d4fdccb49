"""The access record stored a batch to a row (issue 13: its cost on reads).

`access_log_batches` holds each batch the service writes (a JSON array of its records,
each still chained to the one before) with the cases, actors and times it covers for
the indexes; `access_log` becomes a view with the table's old columns, one row per
record, at the same positions. Records written before become batches of one. The
service writes through `caseledger_record_access_batch` (SECURITY DEFINER, app role
only), which checks that a batch continues the chain's head. The downgrade restores
0011's table, function and rows.

The statements are this revision's own copies under `app/store/sql/migrations/0012/`.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op
from app.store.privileges import grant_app_role
from app.store.queries import migration_sql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _run(name: str) -> None:
    for statement in migration_sql("0012", name).split("\n--\n"):
        if statement.strip():
            op.execute(statement)


def upgrade() -> None:
    grant_app_role(op.get_bind())  # names the app role for this transaction's grants
    _run("access_batches")
    grant_app_role(op.get_bind())  # the new table and view are readable


def downgrade() -> None:
    grant_app_role(op.get_bind())
    _run("access_batches_down")
    grant_app_role(op.get_bind())
