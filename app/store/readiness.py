"""What `/readyz` compares: the schema revision the database is at, and the migrations' head.

The head is read from `alembic/versions/*.py` as text, not through Alembic's
ScriptDirectory: importing Alembic brings SQLAlchemy, Mako and Pygments (about
210 modules, 23 MB of RSS with SQLAlchemy) into a process that never migrates.
`tests/unit/test_migrations_head.py` proves this head is Alembic's own.
"""

from __future__ import annotations

import ast
import re
from functools import lru_cache
from pathlib import Path

import asyncpg

from app.settings import REPO_ROOT

VERSIONS = REPO_ROOT / "alembic" / "versions"
# A module-level `revision = ...` or `down_revision: str | None = ...` line (Alembic's template).
_ASSIGNMENT = re.compile(r"^(revision|down_revision)\b[^=\n]*=\s*(.+?)\s*$", re.MULTILINE)


async def schema_revision(conn: asyncpg.Connection, *, within_seconds: float) -> str | None:
    """The alembic revision the database's schema is at."""
    return await conn.fetchval("SELECT version_num FROM alembic_version", timeout=within_seconds)


@lru_cache(maxsize=1)
def head_revision(versions: Path = VERSIONS) -> str:
    """The one revision no other migration revises ("" with no migrations), read once."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in versions.glob("*.py"):
        found: dict[str, str] = {}
        for name, value in _ASSIGNMENT.findall(path.read_text(encoding="utf-8")):
            found.setdefault(name, value)  # the module-level one, before any later text
        if "revision" not in found:
            continue
        revisions.add(ast.literal_eval(found["revision"]))
        revised.update(_names(ast.literal_eval(found.get("down_revision", "None"))))
    heads = sorted(revisions - revised)
    if len(heads) > 1:
        raise RuntimeError(f"migrations have several heads {heads}: merge them (alembic merge)")
    return heads[0] if heads else ""


def _names(down_revision: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    """A merge migration revises several revisions; the first revises none."""
    if down_revision is None:
        return ()
    return (down_revision,) if isinstance(down_revision, str) else tuple(down_revision)
