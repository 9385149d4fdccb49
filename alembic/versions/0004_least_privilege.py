"""Least privilege: the service connects as a role that can read and only append.

Before this revision the service connected as the role that owns the tables, so it
could `ALTER TABLE events DISABLE TRIGGER` and rewrite history unseen. Now the
app role (`caseledger_app` by default) owns nothing; `caseledger_append` runs as
the owner (SECURITY DEFINER, pinned search_path) and is the app role's only way to
write events and the read models. Its other writes: API keys, refused claims, UI
sessions and the checkpoint tables (see `app_grants.sql`).

Every later migration ends with `grant_app_role(op.get_bind())`, so the tables and
functions it adds or replaces are covered as well.

The statements are this revision's own copies under `app/store/sql/migrations/0004/`.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op
from app.store.privileges import grant_app_role, revoke_app_role

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    grant_app_role(op.get_bind())


def downgrade() -> None:
    revoke_app_role(op.get_bind())
