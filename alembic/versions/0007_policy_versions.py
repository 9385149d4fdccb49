"""Policy versions as recorded history: append-only, hash-chained (issue 11, items 6-8).

`policy_versions` holds one row per adopted version with who adopted it and when;
a trigger refuses UPDATE, DELETE and TRUNCATE as on `events`. The table starts
empty: the service seeds it from the configured policy file (or the built-in
table) at its first start (`app.service.policy.seed_if_empty`), because the file
is a setting of the service, not of the migration (docs/policy.md).

The statements are this revision's own copies under `app/store/sql/migrations/0007/`.

Revision ID: 0007
Revises: 0008 (the newest revision present when this was written: 0008 revises 0006)
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op
from app.store.privileges import grant_app_role
from app.store.queries import migration_sql

revision: str = "0007"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Names the app role for this transaction (and re-applies 0004's grants) first, so
    # the functions below are granted to it.
    grant_app_role(op.get_bind())
    for statement in migration_sql("0007", "policy_versions").split("\n--\n"):
        if statement.strip():
            op.execute(statement)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS caseledger_adopt_policy")
    op.execute("DROP FUNCTION IF EXISTS caseledger_refresh_case")
    op.drop_table("policy_versions")
    op.execute("DROP FUNCTION IF EXISTS policy_versions_refuse_change")
