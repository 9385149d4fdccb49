"""UI sessions: the auditor pages' short-lived, revocable sign-in (issue 14, item 5).

A browser exchanges an API key for a random session id; only the id's SHA-256 is
stored, with the key it stands for, an absolute expiry and the last time it was used
(an idle session ends too). Revoking the key ends its sessions (`ON DELETE CASCADE`
covers a deleted key; the lookup also refuses a revoked one).

The statements are this revision's own copies under `app/store/sql/migrations/0006/`.
As every migration after 0004, it ends by granting the app role its privileges again
(`app_grants.sql` names `ui_sessions`: INSERT, UPDATE (last_seen_at), DELETE).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op
from app.store.privileges import grant_app_role
from app.store.queries import migration_sql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for statement in migration_sql("0006", "ui_sessions").split(";\n"):
        if statement.strip():
            op.execute(statement)
    grant_app_role(op.get_bind())


def downgrade() -> None:
    op.drop_table("ui_sessions")
