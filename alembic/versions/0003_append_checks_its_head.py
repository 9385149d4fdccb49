"""`caseledger_append` checks the expected version against the stored head itself.

Before this revision the function trusted its caller: called with expected
version 3 on a case that did not exist it stored version 4 and wrote no
`case_state` row. Now it refuses with SQLSTATE CL409 (DETAIL: the current
version), which the store maps to a lost race and the service to
`409 version_conflict`. It also writes the closure-clock row through
`caseledger_put_clock`, the one upsert the rebuild uses too, and is called
with named parameters.

The function's text is this revision's own copy under
`app/store/sql/migrations/0003/`: a later change goes into a new revision.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path

from alembic import op
from app.store.queries import migration_sql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(migration_sql("0003", "caseledger_put_clock"))
    op.execute("DROP FUNCTION caseledger_append")
    op.execute(migration_sql("0003", "caseledger_append"))


def downgrade() -> None:
    op.execute("DROP FUNCTION caseledger_append")
    op.execute(_migration_0002().APPEND)


def _migration_0002():  # type: ignore[no-untyped-def]
    """0002's own statement, so a downgrade restores its function exactly."""
    path = Path(__file__).with_name("0002_cheaper_append.py")
    spec = importlib.util.spec_from_file_location("caseledger_migration_0002", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
