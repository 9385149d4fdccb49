"""`/readyz` reads the migrations' head without Alembic; it must be the head Alembic upgrades to.

If they differed, a service on a freshly migrated database would answer 503 forever
(or 200 on a database one migration behind). Alembic is imported here, never by the service.
"""

from __future__ import annotations

from pathlib import Path

from alembic.script import ScriptDirectory

from app.store import readiness
from app.store.migrations import head_revision as alembic_head

MIGRATION = '''"""{doc}"""

from collections.abc import Sequence

revision: str = {revision!r}
down_revision: str | Sequence[str] | None = {down!r}
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQL = """
revision = 'not this one'
"""


def upgrade() -> None:
    pass
'''


def _write(versions: Path, name: str, revision: str, down: str | tuple[str, ...] | None) -> None:
    text = MIGRATION.format(doc=name, revision=revision, down=down)
    (versions / f"{name}.py").write_text(text, encoding="utf-8")


def _alembic_head_of(scripts: Path) -> str:
    return ScriptDirectory(str(scripts)).get_current_head() or ""


def test_the_service_expects_the_head_that_migrate_upgrades_to() -> None:
    assert readiness.head_revision() == alembic_head()
    assert readiness.head_revision() != ""


def test_the_head_follows_the_chain_not_the_file_names(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    _write(versions, "0001_first", "0001", None)
    _write(versions, "0002_second", "0002", "0003")  # written after 0003 on another branch
    _write(versions, "0003_third", "0003", "0001")
    assert readiness.head_revision(versions) == _alembic_head_of(tmp_path) == "0002"


def test_a_merge_migration_is_the_one_head(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    _write(versions, "a", "a1", None)
    _write(versions, "b", "b1", "a1")
    _write(versions, "c", "c1", "a1")
    _write(versions, "merge", "m1", ("b1", "c1"))
    assert readiness.head_revision(versions) == _alembic_head_of(tmp_path) == "m1"
