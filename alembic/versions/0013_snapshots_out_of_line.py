"""Case snapshots kept out of the `case_state` row (issue 10: the closure-clock read's cost).

`ALTER TABLE case_state SET (toast_tuple_target = 128)`: a snapshot in a row above
PostgreSQL's 2 kB TOAST threshold is moved to the table's TOAST relation instead of
compressed into the row, so the row a read joins is the case's head and a pointer
(`app/store/sql/migrations/0013/` says why, with the figures). Only rows written
afterwards change; no rewrite.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op
from app.store.privileges import grant_app_role
from app.store.queries import migration_sql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    grant_app_role(op.get_bind())
    op.execute(migration_sql("0013", "snapshots_out_of_line"))


def downgrade() -> None:
    grant_app_role(op.get_bind())
    op.execute(migration_sql("0013", "snapshots_out_of_line_down"))
