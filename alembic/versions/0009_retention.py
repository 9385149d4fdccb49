"""Retention (issue 13, item 3): `retention_years` in the policy, and the key destruction path.

`policy_versions` gains `retention_years` (years after closure, default 5, effective-dated
like every other number); `caseledger_adopt_policy` takes it. `caseledger_destroy_data_keys`
(SECURITY DEFINER) is the app role's only way to destroy a case's data key, and only for a
case whose stream records `CaseRecordsDestroyed` (docs/privacy.md).

The statements are this revision's own copies under `app/store/sql/migrations/0009/`.

Revision ID: 0009
Revises: 0007 (the head when this was written: 0008 revises 0006, 0007 revises 0008)
Create Date: 2026-12-08
"""

from collections.abc import Sequence

from alembic import op
from app.store.privileges import grant_app_role
from app.store.queries import migration_sql

revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _run(name: str) -> None:
    for statement in migration_sql("0009", name).split("\n--\n"):
        if statement.strip():
            op.execute(statement)


def upgrade() -> None:
    # Names the app role for this transaction first, so the functions below are granted to it.
    grant_app_role(op.get_bind())
    _run("retention")


def downgrade() -> None:
    grant_app_role(op.get_bind())
    _run("retention_down")
