"""The app uses FastAPI and Starlette through their public APIs only (issue 10, item 2)."""

from __future__ import annotations

import re

from app.settings import REPO_ROOT

APP = REPO_ROOT / "app"
# `fastapi._compat`, `from starlette._utils import x`, `from fastapi.dependencies.utils import _get_x`
PRIVATE_MODULE = re.compile(r"\b(?:fastapi|starlette)(?:\.\w+)*\._\w+")
FRAMEWORK_IMPORT = re.compile(r"from\s+(?:fastapi|starlette)[\w.]*\s+import\s+(?:\(([^)]*)\)|([^\n]*))")
# scope keys and attributes the frameworks keep to themselves
PRIVATE_KEYS = ("starlette.exception_handlers", "fastapi_middleware_astack", "fastapi_inner_astack")
MONKEYPATCHED = re.compile(r"\.(build_middleware_stack|middleware_stack)\s*=")


def private_imports(text: str) -> list[str]:
    """Names starting with an underscore imported from fastapi or starlette."""
    found = []
    for m in FRAMEWORK_IMPORT.finditer(text):
        names = (m.group(1) or m.group(2)).replace("\n", " ").split(",")
        found += [n.strip() for n in names if n.strip().startswith("_")]
    return found


def sources() -> list[tuple[str, str]]:
    return [(str(p.relative_to(REPO_ROOT)), p.read_text()) for p in sorted(APP.rglob("*.py"))]


def test_no_private_fastapi_or_starlette_name_is_used() -> None:
    found = [f"{path}: {m.group(0)}" for path, text in sources() for m in PRIVATE_MODULE.finditer(text)]
    found += [f"{path}: {name}" for path, text in sources() for name in private_imports(text)]
    assert found == []


def test_no_private_scope_key_and_no_patched_middleware_stack() -> None:
    found = [
        f"{path}: {needle}"
        for path, text in sources()
        for needle in (*PRIVATE_KEYS, *(m.group(0) for m in MONKEYPATCHED.finditer(text)))
        if needle in text
    ]
    assert found == []


def test_the_patterns_find_what_the_issue_names() -> None:
    """The checks above would have caught what was there before."""
    before = (
        "from fastapi._compat import field_annotation_is_sequence\n"
        "from fastapi.dependencies.utils import _get_param_aliases, _is_json_field\n"
        "from starlette._utils import is_async_callable\n"
        "from fastapi.telemetry._asgi import _exception\n"
    )
    assert len(PRIVATE_MODULE.findall(before)) == 3
    assert private_imports(before) == ["_get_param_aliases", "_is_json_field", "_exception"]
    assert MONKEYPATCHED.search("app.build_middleware_stack = build_stack")
