"""The OpenAPI document: FastAPI's schema plus bearer auth and problem+json errors.

`openapi.yaml` at the root is this document, written by
`python -m app.openapi_doc`; a test fails when they differ.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.settings import REPO_ROOT

OPENAPI_FILE = REPO_ROOT / "openapi.yaml"
OPEN_PATHS = {"/healthz", "/readyz"}

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details; `code` is stable, `detail` is for people.",
    "required": ["type", "title", "status", "code", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "code": {
            "type": "string",
            "examples": [
                "version_conflict",
                "rule_violation",
                "idempotency_conflict",
                "invalid_event",
                "case_not_found",
            ],
        },
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "rule": {"type": "string", "description": "with rule_violation: the rule's stable id"},
        "current_version": {"type": "integer", "description": "with version_conflict"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
    "additionalProperties": True,
}
_ERRORS = {
    "400": "A body that is not readable JSON text (malformed_request)",
    "401": "No API key, or an unknown or revoked one",
    "403": "The key's role may not do this",
    "404": "Not found (case_not_found)",
    "409": "version_conflict, rule_violation or idempotency_conflict",
    "413": "Body over 1 MiB (body_too_large)",
    "422": "Invalid request or event (invalid_event, invalid_request)",
    "503": "Database unavailable",
}


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def build_openapi(app: FastAPI) -> dict[str, Any]:
    doc = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
    )
    components = doc.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    components["schemas"].pop("HTTPValidationError", None)
    components["schemas"].pop("ValidationError", None)
    components["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "description": "caseledger API key"}
    }
    for path, operations in doc.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            wanted = ("503",) if path in OPEN_PATHS else tuple(_ERRORS)
            for status in wanted:
                responses.setdefault(status, _problem(_ERRORS[status]))
            if path not in OPEN_PATHS:
                operation["security"] = [{"bearer": []}]
    return doc


def install_openapi(app: FastAPI) -> None:
    def cached() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = cached  # type: ignore[method-assign]


def render(app: FastAPI) -> str:
    return yaml.safe_dump(build_openapi(app), sort_keys=False, allow_unicode=True, width=100)


def main() -> None:
    from app.web.app import create_app

    target = Path(sys.argv[1]) if len(sys.argv) > 1 else OPENAPI_FILE
    target.write_text(render(create_app()))
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
