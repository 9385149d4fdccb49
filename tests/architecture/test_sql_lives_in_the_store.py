"""SQL longer than one line lives in `.sql` files under `app/store/sql/`, behind the store.

A statement in a route, a use case or an ops module is one a DBA does not find
when reading the store, and one a projection could run although projections are
pure. This fails the suite when a module outside `app/store/` holds one: a
multi-line string that starts with SELECT, INSERT, UPDATE, DELETE or WITH, or a
`.fetch(`/`.execute(`-style call whose literal spans more than one line.
Docstrings are prose, not statements, and are never flagged.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"
STORE = APP / "store"
STATEMENT = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\s", re.MULTILINE)
QUERY_METHODS = frozenset({"fetch", "fetchrow", "fetchval", "execute", "executemany", "cursor"})


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the docstring nodes of a module, its classes and its functions."""
    owners = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, owners) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _text(node: ast.expr) -> str | None:
    """The literal text of a string or f-string (its fixed parts), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
        )
    return None


def _multi_line(node: ast.expr, text: str) -> bool:
    return "\n" in text.strip() or (node.end_lineno or node.lineno) > node.lineno


def statements_in(source: str) -> Iterator[int]:
    """The line of each SQL statement longer than a line in this Python source."""
    tree = ast.parse(source)
    seen = _docstrings(tree)  # and the literals inside a statement already reported
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
            literal = node.args[0]
            text = _text(literal)
            flagged = node.func.attr in QUERY_METHODS and bool(text) and _multi_line(literal, text or "")
        elif isinstance(node, ast.Constant | ast.JoinedStr) and id(node) not in seen:
            literal = node
            text = _text(node)
            flagged = bool(text and STATEMENT.match(text.lstrip()) and _multi_line(node, text))
        else:
            continue
        if flagged:
            seen.update(id(inner) for inner in ast.walk(literal))
            yield node.lineno


def test_no_module_outside_the_store_holds_an_sql_statement() -> None:
    found = [
        f"{path.relative_to(APP.parent)}:{line}"
        for path in sorted(APP.rglob("*.py"))
        if STORE not in path.parents
        for line in statements_in(path.read_text(encoding="utf-8"))
    ]
    assert not found, "SQL outside app/store/ (move it to app/store/sql/): " + ", ".join(found)


def test_the_check_flags_statements_and_not_docstrings() -> None:
    flagged = '''
LAG = """
SELECT count(*)
  FROM events
"""
async def page(conn):
    """SELECT the rows
    of a page: prose, not a statement."""
    return await conn.fetch(
        "SELECT case_id FROM closure_clock"
        " WHERE phase = $1",
        "open",
    )
async def one(conn):
    return await conn.fetchval("SELECT 1")
'''
    assert list(statements_in(flagged)) == [2, 9]
