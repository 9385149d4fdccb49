"""The request's observability and body limit: one pure ASGI middleware, added with
`app.add_middleware` (Starlette's documented way), so it sits inside Starlette's
`ServerErrorMiddleware` and outside the exception handlers and the router.

- request id: `X-Request-ID` echoed when it is 1-128 chars of [A-Za-z0-9._-], else a new
  one; on every answer (413 included; the app's 500 handler adds it to the 500, which it
  answers outside this middleware, from `request.state.request_id`);
- the latency histogram by route template, problem counters by code and one JSON access
  log line per request (a request the client gave up on is logged as 499);
- the body limit: a declared `Content-Length` over the limit, or a chunked body that grows
  over it, is answered 413 `body_too_large` before anything parses it.

Exceptions are FastAPI's and Starlette's business: the app's handlers (`problems.install`)
answer each as problem+json. Labels and log fields use the route template
(`/cases/{case_id}/events`), never the raw path; a path no route matches is `unmatched`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.events.types import IDENTIFIER
from app.observability.logs import REQUEST_ID
from app.observability.metrics import Metrics
from app.web.problems import Problem, problem_response

log = logging.getLogger("caseledger.access")
HEADER = b"x-request-id"
CONTENT_LENGTH = b"content-length"
CONTENT_TYPE = b"content-type"
VALID_REQUEST_ID = re.compile(rb"[A-Za-z0-9._-]{1,128}")
PROBLEM_JSON = b"application/problem+json"
MAX_SNIFFED_BYTES = 64 * 1024
INTERNAL_ERROR = "internal_error"  # what the app's 500 handler answers
STATE_KEY = "request_id"
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

    __slots__ = ("body", "problem", "started", "status", "unhandled")

    def __init__(self) -> None:
        self.started = False
        self.status = 500
        self.problem = False
        self.body = b""
        self.unhandled = False

    def code(self) -> str | None:
        if self.unhandled:
            return INTERNAL_ERROR
        try:
            code = orjson.loads(self.body).get("code") if self.problem else None
        except (orjson.JSONDecodeError, AttributeError):
            return None
        return code if isinstance(code, str) and IDENTIFIER.fullmatch(code) else None


class RequestObservability:
    """Request id, metrics, the access log and the body limit around the app's router;
    registered with `app.add_middleware` (see the module's docstring)."""

    def __init__(self, app: ASGIApp, metrics: Metrics, *, max_body_bytes: int | None = None) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
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
        # For the app's 500 handler, which answers outside this middleware (Starlette's
        # ServerErrorMiddleware calls it): `request.state.request_id`.
        scope.setdefault("state", {})[STATE_KEY] = request_id
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
            await self.app(scope, receive, send_with_id)
        except asyncio.CancelledError:
            if not seen.started:
                seen.status = CLIENT_GONE
            raise
        except Exception:
            if not seen.started:  # the app's 500 handler answers it, outside this middleware
                seen.status, seen.unhandled = 500, True
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
