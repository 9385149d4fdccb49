"""RFC 9457 problem details: every error the service gives, with a stable `code`.

Routes raise `Problem`; the handlers below also turn FastAPI's validation
errors, unknown routes and unexpected exceptions into problem+json, so a
client never has to parse two error shapes.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from app.service.errors import SERVICE_ERROR_CODES, ServiceError, validation_errors
from app.web.refusal_rules import RULE_IDS

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("caseledger.problems")

_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    500: "Internal server error",
    503: "Service unavailable",
}


class Problem(Exception):
    def __init__(self, status: int, code: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.extra = extra

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://caseledger.example/problems/{self.code}",
            "title": _TITLES.get(self.status, "Error"),
            "status": self.status,
            "code": self.code,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return body


def problem_response(problem: Problem, request: Request | None = None) -> Response:
    instance = request.url.path if request is not None else None
    headers = {"WWW-Authenticate": "Bearer"} if problem.status == 401 else None
    return Response(
        orjson.dumps(problem.body(instance)),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


# The HTTP status of each code a use case raises (app.service.errors).
STATUS_OF = {
    "invalid_event": 422,
    "invalid_request": 422,
    "version_conflict": 409,
    "rule_violation": 409,
    "idempotency_conflict": 409,
    "case_not_found": 404,
    "not_found": 404,
    "forbidden": 403,
}


# Every other code the web layer answers with (its routes, auth, middleware and handlers).
WEB_ERROR_CODES = (
    "unauthorized",
    "malformed_request",
    "method_not_allowed",
    "body_too_large",
    "http_error",
    "internal_error",
    "database_unavailable",
    "not_ready",
)
ERROR_CODES = (*SERVICE_ERROR_CODES, *WEB_ERROR_CODES)
"""Every problem `code` the service answers with (listed in openapi.yaml)."""


class ValidationErrorOut(BaseModel):
    loc: list[str | int] = Field(description="where: body, path or query, then the field's path")
    msg: str
    type: str


class ProblemOut(BaseModel):
    """RFC 9457 problem details; `code` is stable, `detail` is for people."""

    model_config = ConfigDict(title="Problem", extra="allow")
    type: str
    title: str
    status: int
    code: Literal[ERROR_CODES] = Field(description="what went wrong, stable")  # type: ignore[valid-type]
    detail: str
    instance: str | None = Field(None, description="the request's path")
    rule: Literal[RULE_IDS] | None = Field(  # type: ignore[valid-type]
        None, description="rule_violation and case_not_found on append: the refusal's stable rule id"
    )
    event_index: int | None = Field(None, description="with rule: the refused event's index in the batch")
    event_type: str | None = Field(None, description="with rule_violation: the refused event's type")
    current_version: int | None = Field(None, description="version_conflict: the case's version now")
    errors: list[ValidationErrorOut] | None = Field(
        None, description="invalid_event and invalid_request: each field that is wrong"
    )


def from_service_error(error: ServiceError) -> Problem:
    return Problem(STATUS_OF[error.code], error.code, error.detail, **error.extra)


async def _on_service_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceError)
    return problem_response(from_service_error(exc), request)


async def _on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return problem_response(exc, request)


async def _on_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = validation_errors(list(exc.errors()))
    body_error = any(e["loc"][:1] == ["body"] for e in errors)
    appending = request.method == "POST" and request.url.path.endswith("/events")
    code = "invalid_event" if body_error and appending else "invalid_request"
    detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors[:5])
    return problem_response(Problem(422, code, detail, errors=errors), request)


async def _on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    codes = {400: "malformed_request", 404: "not_found", 405: "method_not_allowed"}
    code = codes.get(exc.status_code, "http_error")
    return problem_response(Problem(exc.status_code, code, str(exc.detail)), request)


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    """Starlette's ServerErrorMiddleware calls this outside the observability middleware:
    the request id comes from the request's state (`middleware.STATE_KEY`)."""
    request_id = getattr(request.state, "request_id", None)
    log.exception("unexpected error", extra={"path": request.url.path, "request_id": request_id})
    response = problem_response(
        Problem(500, "internal_error", "An unexpected error occurred; it has been logged."), request
    )
    if request_id:
        response.headers["X-Request-ID"] = request_id
    return response


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(ServiceError, _on_service_error)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(Exception, _on_unexpected)
