"""Confidentiality (issue 13): the access record and the wrapped per-case data keys.

`access_log` is append-only (a trigger refuses UPDATE, DELETE and TRUNCATE) and
hash-chained; the service writes it through `caseledger_record_access` (SECURITY
DEFINER), as its database role may only SELECT and call functions.
`case_data_keys` holds each case's data key wrapped by the master key.

The statements are this revision's own copies under `app/store/sql/migrations/0008/`.

Revision ID: 0008
Revises: 0006 (the newest revision present when this was written)
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op
from app.store.privileges import grant_app_role
from app.store.queries import migration_sql

revision: str = "0008"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for statement in migration_sql("0008", "access_log").split(";\n--\n"):
        if statement.strip():
            op.execute(statement)
    # The app role reads both tables and writes the access record only through the function.
    grant_app_role(op.get_bind())


def downgrade() -> None:
    op.execute("DROP FUNCTION caseledger_put_data_key(text, bytea, text)")
    op.execute("DROP TABLE case_data_keys")
    op.execute("DROP FUNCTION caseledger_record_access(jsonb)")
    op.execute("DROP TABLE access_log")
    op.execute("DROP FUNCTION access_log_refuse_change()")
