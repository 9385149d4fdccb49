"""The one pure ASGI middleware around the router: request id, latency histogram, one JSON
log line per request, the body limit (413) and the exception handling of the stack.

It replaces the seven layers FastAPI and Starlette build by default
(`ServerErrorMiddleware`, `ExceptionTelemetryMiddleware`, `AppBodyLimitMiddleware`, a body
limit of our own, `ExceptionMiddleware`, `AsyncExitStackMiddleware`, and the observability
layer itself) with one call per request; see `observability.install`, which builds it.
What each did is kept, in the same order, outermost first:

- request id (`X-Request-ID` echoed or generated, on every answer, 413 and 500 included),
  the latency histogram by route template, problem counters and the access log line;
- the body limit: a declared `Content-Length` over the limit, or a chunked body that grows
  over it, is answered 413 `body_too_large` before anything parses it;
- exceptions no handler takes: FastAPI's exception telemetry sees them, the app's 500
  handler answers (problem+json `internal_error`) and the exception is raised again for
  the server to log (as `ServerErrorMiddleware` does);
- exceptions a handler takes (the app's exception handlers, by status for HTTP errors and
  else by class): answered by that handler (as `ExceptionMiddleware` does; route-level
  exceptions are handled inside the route through the same handlers, found in the scope);
- the request-scoped `AsyncExitStack` FastAPI's route handlers expect in the scope.

Labels and log fields use the route template (`/cases/{case_id}/events`), never the raw
path; a path no route matches is `unmatched`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
from collections.abc import Mapping
from contextlib import AsyncExitStack
from typing import Any

import orjson
from starlette._utils import is_async_callable
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, ExceptionHandler, Message, Receive, Scope, Send

from app.events.types import IDENTIFIER
from app.observability.logs import REQUEST_ID
from app.observability.metrics import Metrics
from app.web.problems import Problem, problem_response

try:  # FastAPI's native (OpenTelemetry) exception telemetry: a no-op unless configured
    from fastapi.telemetry._asgi import _exception as _exception_telemetry
except ImportError:  # pragma: no cover - an older FastAPI without it
    _exception_telemetry = None

log = logging.getLogger("caseledger.access")
HEADER = b"x-request-id"
CONTENT_LENGTH = b"content-length"
CONTENT_TYPE = b"content-type"
VALID_REQUEST_ID = re.compile(rb"[A-Za-z0-9._-]{1,128}")
PROBLEM_JSON = b"application/problem+json"
MAX_SNIFFED_BYTES = 64 * 1024
CLIENT_GONE = 499  # cancelled before an answer (client went away, server shutting down)
_LEVELS = {True: logging.ERROR, False: logging.INFO}


def route_of(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


def ids_of(scope: Scope) -> dict[str, str]:
    """case_id / provider_id from the path, when they are well-formed ids (nothing else)."""
    params = scope.get("path_params") or {}
    return {
        k: v
        for k in ("case_id", "provider_id")
        if isinstance(v := params.get(k), str) and IDENTIFIER.fullmatch(v)
    }


class _Exchange:
    """What one request's response looked like, seen through `send`."""

    __slots__ = ("body", "problem", "started", "status")

    def __init__(self) -> None:
        self.started = False
        self.status = 500
        self.problem = False
        self.body = b""

    def code(self) -> str | None:
        try:
            code = orjson.loads(self.body).get("code") if self.problem else None
        except (orjson.JSONDecodeError, AttributeError):
            return None
        return code if isinstance(code, str) and IDENTIFIER.fullmatch(code) else None


class Handlers:
    """The app's exception handlers as `ExceptionMiddleware` and `ServerErrorMiddleware`
    would hold them: by status (HTTP errors), by class, and the one for anything else."""

    __slots__ = ("by_class", "by_status", "server_error")

    def __init__(self, handlers: Mapping[Any, ExceptionHandler]) -> None:
        self.server_error: ExceptionHandler | None = None
        self.by_status: dict[int, ExceptionHandler] = {}
        self.by_class: dict[Any, ExceptionHandler] = {HTTPException: _plain_http_exception}
        for key, handler in handlers.items():
            if key in (500, Exception):
                self.server_error = handler
            elif isinstance(key, int):
                self.by_status[key] = handler
            else:
                self.by_class[key] = handler

    def scope_value(self) -> tuple[dict[Any, ExceptionHandler], dict[int, ExceptionHandler]]:
        """What `ExceptionMiddleware` puts in `scope["starlette.exception_handlers"]`."""
        return self.by_class, self.by_status

    def lookup(self, exc: Exception) -> ExceptionHandler | None:
        if isinstance(exc, HTTPException):
            handler = self.by_status.get(exc.status_code)
            if handler is not None:
                return handler
        for cls in type(exc).__mro__:
            handler = self.by_class.get(cls)
            if handler is not None:
                return handler
        return None


async def _plain_http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's default for an HTTPException (the app installs its own)."""
    assert isinstance(exc, HTTPException)
    if exc.status_code in {204, 304}:
        return Response(status_code=exc.status_code, headers=exc.headers)
    return PlainTextResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)


async def _call(handler: ExceptionHandler, request: Request, exc: Exception) -> Any:
    if is_async_callable(handler):
        return await handler(request, exc)  # type: ignore[arg-type]
    return await run_in_threadpool(handler, request, exc)  # type: ignore[arg-type]


class RequestObservability:
    """Request id, metrics and the access log; with `handlers`, also everything the default
    middleware stack did around the router (see the module's docstring)."""

    def __init__(
        self,
        app: ASGIApp,
        metrics: Metrics,
        *,
        max_body_bytes: int | None = None,
        handlers: Handlers | None = None,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self.handlers = handlers
        self._scope_handlers = handlers.scope_value() if handlers is not None else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if self._scope_handlers is not None and scope["type"] == "websocket":
                scope["starlette.exception_handlers"] = self._scope_handlers
                async with AsyncExitStack() as stack:
                    scope["fastapi_middleware_astack"] = stack
                    await self.app(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        # One pass over the headers: the client's X-Request-ID when it is 1-128 chars of
        # [A-Za-z0-9._-] (else a new one), and the declared body length.
        request_id: str | None = None
        declared: bytes | None = None
        for name, value in scope["headers"]:
            if name == HEADER:
                if request_id is None:
                    request_id = value.decode("ascii") if VALID_REQUEST_ID.fullmatch(value) else ""
            elif name == CONTENT_LENGTH:
                declared = value  # the last one, as dict(headers) would have it
        if not request_id:
            request_id = os.urandom(16).hex()
        token = REQUEST_ID.set(request_id)
        seen = _Exchange()
        echo = (HEADER, request_id.encode("ascii"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", ())
                kept = []
                for header in headers:
                    name = header[0].lower()
                    if name == HEADER:
                        continue
                    if name == CONTENT_TYPE and header[1].startswith(PROBLEM_JSON):
                        seen.problem = True
                    kept.append(header)
                kept.append(echo)
                message = {**message, "headers": kept}
                seen.started, seen.status = True, message["status"]
            elif (
                seen.problem
                and message["type"] == "http.response.body"
                and len(seen.body) < MAX_SNIFFED_BYTES
            ):
                seen.body += message.get("body", b"")
            await send(message)

        try:
            if self.max_body_bytes is not None:
                receive = await self._limit(scope, receive, send_with_id, declared)  # type: ignore[assignment]
                if receive is None:
                    return
            if self.handlers is None:
                await self.app(scope, receive, send_with_id)
            else:
                await self._serve(scope, receive, send_with_id, seen)
        except asyncio.CancelledError:
            if not seen.started:
                seen.status = CLIENT_GONE
            raise
        finally:
            self._record(scope, request_id, seen, time.perf_counter() - started)
            REQUEST_ID.reset(token)

    # --- the body limit ---------------------------------------------------------------------

    async def _limit(
        self, scope: Scope, receive: Receive, send: Send, declared: bytes | None
    ) -> Receive | None:
        """`receive` to go on with, or None when the body was refused with 413."""
        limit = self.max_body_bytes
        assert limit is not None
        if declared is not None:
            if not declared.isdigit() or int(declared) > limit:
                await self._refuse(scope, receive, send)
                return None
            return receive
        # No declared length (chunked): read at most the limit first, then replay it.
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > limit:
                await self._refuse(scope, receive, send)
                return None
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        return replay

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        problem = Problem(413, "body_too_large", f"the request body is over {self.max_body_bytes} bytes")
        await problem_response(problem)(scope, receive, send)

    # --- exceptions -------------------------------------------------------------------------

    async def _serve(self, scope: Scope, receive: Receive, send: Send, seen: _Exchange) -> None:
        handlers = self.handlers
        assert handlers is not None
        scope["starlette.exception_handlers"] = self._scope_handlers
        try:
            try:
                async with AsyncExitStack() as stack:
                    scope["fastapi_middleware_astack"] = stack
                    await self.app(scope, receive, send)
            except Exception as exc:
                handler = handlers.lookup(exc)
                if handler is None:
                    raise
                if seen.started:
                    raise RuntimeError("Caught handled exception, but response already started.") from exc
                response = await _call(handler, Request(scope, receive, send), exc)
                if response is not None:
                    await response(scope, receive, send)
                exc.__traceback__ = None  # reused exception instances accumulate tracebacks
        except Exception as exc:
            if _exception_telemetry is not None:
                _exception_telemetry(scope=scope, exc=exc)
            request = Request(scope)
            if handlers.server_error is None:
                response = PlainTextResponse("Internal Server Error", status_code=500)
            else:
                response = await _call(handlers.server_error, request, exc)
            if not seen.started:
                await response(scope, receive, send)
            # Raised again, as by Starlette's ServerErrorMiddleware: the server logs it.
            raise exc

    # --- metrics and the log line -----------------------------------------------------------

    def _record(self, scope: Scope, request_id: str, seen: _Exchange, seconds: float) -> None:
        route, method = route_of(scope), scope["method"]
        self.metrics.observe_request(route, method, seen.status, seconds)
        code = seen.code()
        if code is not None:
            self.metrics.observe_problem(code)
        level = _LEVELS[500 <= seen.status < 600]
        if log.isEnabledFor(level):
            fields: dict[str, Any] = {
                "request_id": request_id,
                "method": method,
                "route": route,
                "status": seen.status,
                "duration_ms": round(seconds * 1000, 3),
                "code": code,
                **ids_of(scope),
            }
            # makeRecord + handle: the same record as log.log() without its stack walk
            log.handle(
                log.makeRecord(
                    log.name,
                    level,
                    __file__,
                    0,
                    "%s %s %s",
                    (method, route, seen.status),
                    None,
                    extra=fields,
                )
            )
