"""Snapshots TOASTed with lz4 (issue 16): a new case and every 16th append store one.

`ALTER TABLE case_state ALTER COLUMN state SET COMPRESSION lz4` where the server has lz4
(`app/store/sql/migrations/0011/`); only values written afterwards change, no rewrite.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op
from app.store.privileges import grant_app_role
from app.store.queries import migration_sql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    grant_app_role(op.get_bind())
    op.execute(migration_sql("0011", "lz4_snapshots"))


def downgrade() -> None:
    grant_app_role(op.get_bind())
    op.execute(migration_sql("0011", "lz4_snapshots_down"))
