"""RFC 9457 problem details: every error the service gives, with a stable `code`.

Routes raise `Problem`; the handlers below also turn FastAPI's validation
errors, unknown routes and unexpected exceptions into problem+json, so a
client never has to parse two error shapes.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from app.service.errors import ServiceError, validation_errors

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
    log.exception("unexpected error", extra={"path": request.url.path})
    return problem_response(
        Problem(500, "internal_error", "An unexpected error occurred; it has been logged."), request
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(ServiceError, _on_service_error)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(Exception, _on_unexpected)
