"""The one loader of the SQL files under `app/store/sql/`.

Statements longer than a line live in `.sql` files so that a DBA reads the
store without reading Python. A migration reads its own frozen copies under
`sql/migrations/<revision>/`, so editing a current statement never changes
what an old migration did.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).with_name("sql")


@cache
def load_sql(name: str) -> str:
    """The statement in `sql/<name>.sql` (comment lines kept: PostgreSQL ignores them)."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8").strip().removesuffix(";")


def migration_sql(revision: str, name: str) -> str:
    """A migration's own copy of a statement: `sql/migrations/<revision>/<name>.sql`."""
    return load_sql(f"migrations/{revision}/{name}")
