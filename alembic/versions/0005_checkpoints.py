"""Signed checkpoints: the Merkle tree's leaves, its frontier, and the signed checkpoints.

`merkle_leaves` holds one row per leaf in tree order (events in feed order over the
stable prefix, policy versions where they were first seen), `merkle_frontier` the
subtree roots a checkpointer resumes from, `checkpoints` the signed notes the service
serves and puts in bundles. The copies that `verify --checkpoints` trusts live outside
the database; these rows only serve them. All three are append-only (triggers).

The statements are this revision's own copies under `app/store/sql/migrations/0005/`.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op
from app.store.queries import migration_sql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _statements(name: str) -> list[str]:
    return [s for s in migration_sql("0005", name).split("\n--\n") if s.strip()]


def upgrade() -> None:
    for statement in migration_sql("0005", "trust_tables").split(";\n"):
        if statement.strip():
            op.execute(statement)
    for statement in _statements("trust_append_only"):
        op.execute(statement)


def downgrade() -> None:
    for table in ("checkpoints", "merkle_frontier", "merkle_leaves"):
        op.drop_table(table)
    op.execute("DROP FUNCTION IF EXISTS trust_refuse_change")
