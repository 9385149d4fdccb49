"""The OpenAPI document: FastAPI's schema, the plain routes, bearer auth and problem+json.

FastAPI documents its own routes; the plain Starlette routes of the hot paths
(`app.web.plain`) are added from the pydantic models that validate them. Every error
answer is a `Problem` whose `code` and `rule` list their values.
`openapi.yaml` at the root is this document, written by `caseledger openapi`;
a test fails when they differ.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from app.settings import REPO_ROOT
from app.web.plain import PlainOperation, path_parameters
from app.web.problems import ProblemOut

OPENAPI_FILE = REPO_ROOT / "openapi.yaml"
OPEN_PATHS = {"/healthz", "/readyz"}
REF = "#/components/schemas/{model}"
_ERRORS = {
    "400": "A body that is not readable JSON text (malformed_request)",
    "401": "No API key, or an unknown or revoked one (unauthorized)",
    "403": "The key's role may not do this (forbidden)",
    "404": "Not found (case_not_found, not_found)",
    "409": "version_conflict (with current_version), rule_violation (with rule, event_index,"
    " event_type) or idempotency_conflict",
    "413": "Body over 1 MiB (body_too_large)",
    "422": "Invalid request or event (invalid_event, invalid_request; with errors)",
    "503": "Database unavailable (database_unavailable, not_ready)",
}


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _add_schemas(schemas: dict[str, Any], defs: dict[str, Any]) -> None:
    for name, schema in defs.items():
        if schemas.setdefault(name, schema) != schema:
            raise ValueError(f"two different schemas named {name} in the OpenAPI document")


def _parameters(op: PlainOperation, schemas: dict[str, Any]) -> list[dict[str, Any]]:
    if op.parameters is None:
        return []
    schema = op.parameters.model_json_schema(ref_template=REF)
    _add_schemas(schemas, schema.pop("$defs", {}))
    required = set(schema.get("required", ()))
    in_path = path_parameters(op.path)
    out = []
    for name, field in schema["properties"].items():
        param = {"name": name, "in": "path" if name in in_path else "query", "required": name in required}
        param["schema"] = field
        if "description" in field:
            param["description"] = field["description"]
        out.append(param)
    return out


def _plain_operation(op: PlainOperation, refs: dict[Any, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "tags": [op.tag],
        "summary": op.summary,
        "description": op.description,
        "operationId": op.operation_id,
    }
    parameters = _parameters(op, schemas)
    if parameters:
        out["parameters"] = parameters
    if op.body is not None:
        body = {"application/json": {"schema": refs[(op.body, "validation")]}}
        out["requestBody"] = {"required": True, "content": body}
    answer = {"application/json": {"schema": refs[(op.response, "serialization")]}}
    out["responses"] = {str(op.status_code): {"description": "Successful Response", "content": answer}}
    return out


def _add_plain(doc: dict[str, Any], operations: Iterable[PlainOperation]) -> None:
    operations = tuple(operations)
    models: list[tuple[type[BaseModel], Any]] = [(op.response, "serialization") for op in operations]
    models += [(op.body, "validation") for op in operations if op.body is not None]
    refs, top = models_json_schema(models, ref_template=REF)
    schemas = doc["components"]["schemas"]
    _add_schemas(schemas, top.get("$defs", {}))
    paths = doc.setdefault("paths", {})
    for op in operations:
        paths.setdefault(op.path, {})[op.method.lower()] = _plain_operation(op, refs, schemas)


def build_openapi(app: FastAPI) -> dict[str, Any]:
    doc = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
    )
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    _add_plain(doc, getattr(app.state, "plain_operations", ()))
    _add_schemas(schemas, _problem_schemas())
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    doc["components"]["securitySchemes"] = {
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


def _problem_schemas() -> dict[str, Any]:
    schema = ProblemOut.model_json_schema(ref_template=REF, mode="serialization")
    defs = schema.pop("$defs", {})
    return {**defs, "Problem": schema}


def install_openapi(app: FastAPI, plain_operations: Iterable[PlainOperation] = ()) -> None:
    """`app.openapi()` is `build_openapi(app)`, the plain routes included, built once."""
    app.state.plain_operations = tuple(plain_operations)

    def cached() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = cached  # type: ignore[method-assign]


def render(app: FastAPI) -> str:
    """The document as `openapi.yaml` holds it (`caseledger openapi`; PyYAML is imported
    here, so a serving worker does not keep it)."""
    import yaml

    return yaml.safe_dump(build_openapi(app), sort_keys=False, allow_unicode=True, width=100)
