"""Least privilege: the service's database role reads, and writes only what it must.

Migrations run as the owner of the tables; the service connects as the app role
(`caseledger_app` unless `CASELEDGER_APP_ROLE` says otherwise), which owns nothing:
it cannot ALTER a table, disable the append-only trigger, or UPDATE, DELETE or
TRUNCATE events. It appends through `caseledger_append`, which runs as the owner.
What it may do is in `sql/migrations/0004/` (one file for the role, one for the
grants), so a DBA reads it without reading Python.

`grant_app_role` is idempotent and re-applies every grant: migration 0004 calls it,
every later migration ends with it (a table it adds is then covered), and
`upgrade_to_head` runs it once more after the last migration.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit

import sqlalchemy as sa

from app.settings import get_settings
from app.store.queries import migration_sql

__all__ = ["app_role_url", "grant_app_role", "revoke_app_role"]


def grant_app_role(conn: sa.Connection, *, role: str | None = None, password: str | None = None) -> None:
    """Create the app role when missing and grant it exactly what the service needs.

    `conn` is a synchronous SQLAlchemy connection inside a transaction (Alembic's
    `op.get_bind()`), connected as the owner of the tables.
    """
    _name_role(conn, role, password)
    conn.exec_driver_sql(migration_sql("0004", "app_role"))
    for statement in _statements("app_grants"):
        conn.exec_driver_sql(statement)


def revoke_app_role(conn: sa.Connection, *, role: str | None = None) -> None:
    """Undo `grant_app_role` in this database; the cluster-wide role itself stays."""
    _name_role(conn, role, None)
    conn.exec_driver_sql(migration_sql("0004", "app_revoke"))


def app_role_url(url: str, role: str | None = None, password: str | None = None) -> str:
    """`url` with the app role as its user (host, database and query unchanged)."""
    parts = urlsplit(url)
    user = quote(role or get_settings().app_role, safe="")
    secret = f":{quote(password, safe='')}" if password else ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}{secret}@{host}"))


def _name_role(conn: sa.Connection, role: str | None, password: str | None) -> None:
    """Hand the role's name and password to the SQL files (transaction-local settings)."""
    settings = get_settings()
    if password is None and settings.app_role_password is not None:
        password = settings.app_role_password.get_secret_value()
    conn.execute(
        sa.text(
            "SELECT set_config('caseledger.app_role', :role, true),"
            " set_config('caseledger.app_password', :pw, true)"
        ),
        {"role": role or settings.app_role, "pw": password or ""},
    )


def _statements(name: str) -> list[str]:
    return [s for s in migration_sql("0004", name).split("\n--\n") if s.strip()]
