"""The request's observability and body limit: one pure ASGI middleware, added with
`app.add_middleware` (Starlette's documented way), so it sits inside Starlette's
`ServerErrorMiddleware` and outside the exception handlers and the router.

- request id: `X-Request-ID` echoed when it is 1-128 chars of [A-Za-z0-9._-], else a new
  one; on every answer (413 included; the app's 500 handler adds it to the 500, which it
  answers outside this middleware, from `request.state.request_id`);
- the latency histogram by route template, problem counters by code and one JSON access
  log line per request. A client that went away before its answer started (it
  disconnected, say mid-body) is 499, logged at info with no stack trace, and counted
  apart from 5xx: it is the client's doing, not a fault to alert on;
- `Cache-Control: no-store` on every answer that does not say otherwise: nearly every
  answer carries case data, and none should sit in a shared or browser cache;
- the body limit: a declared `Content-Length` over the limit is answered 413
  `body_too_large` before anything reads the body; a chunked body is counted as the
  route reads it (after it authenticated the caller) and cut with the same 413.

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
from prometheus_client import Counter
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.events.types import IDENTIFIER
from app.observability.logs import REQUEST_ID
from app.observability.metrics import KNOWN_METHODS, Metrics
from app.web.problems import Problem, problem_response

log = logging.getLogger("caseledger.access")
HEADER = b"x-request-id"
CONTENT_LENGTH = b"content-length"
CONTENT_TYPE = b"content-type"
CACHE_CONTROL = b"cache-control"
NO_STORE = (CACHE_CONTROL, b"no-store")
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


def path_id(scope: Scope, name: str) -> str | None:
    """The path parameter `name` when it is a well-formed id (nothing else)."""
    value = (scope.get("path_params") or {}).get(name)
    return value if isinstance(value, str) and IDENTIFIER.fullmatch(value) else None


def ids_of(scope: Scope) -> dict[str, str]:
    """case_id / provider_id from the path, when they are well-formed ids (nothing else)."""
    return {k: v for k in ("case_id", "provider_id") if (v := path_id(scope, k)) is not None}


class _Exchange:
    """What one request's response looked like, seen through `send`."""

    __slots__ = ("body", "client_gone", "problem", "started", "status", "unhandled")

    def __init__(self) -> None:
        self.started = False
        self.client_gone = False
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


class _Receiver:
    """The app's `receive`: notes a client that went away and, for a body of no declared
    length, raises 413 `body_too_large` once more than `limit` bytes came in."""

    __slots__ = ("limit", "receive", "received", "seen")

    def __init__(self, receive: Receive, seen: _Exchange, limit: int | None) -> None:
        self.receive, self.seen, self.limit, self.received = receive, seen, limit, 0

    async def __call__(self) -> Message:
        message = await self.receive()
        if message["type"] == "http.disconnect":
            # Before an answer started: whatever the app answers now goes nowhere (499).
            self.seen.client_gone = self.seen.client_gone or not self.seen.started
        elif self.limit is not None:
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                raise Problem(413, "body_too_large", f"the request body is over {self.limit} bytes")
        return message


class RequestObservability:
    """Request id, metrics, the access log and the body limit around the app's router;
    registered with `app.add_middleware` (see the module's docstring)."""

    def __init__(self, app: ASGIApp, metrics: Metrics, *, max_body_bytes: int | None = None) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        # Beside the latency histogram's status class (4xx): requests whose client went
        # away before an answer, which are no fault of the service and no 5xx.
        self.client_gone = Counter(
            "caseledger_http_client_gone",
            "Requests whose client went away before the answer started (status 499), by route",
            ("route", "method", "status"),
            registry=metrics.registry,
        )

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
                kept, cache_control = [], False
                for header in headers:
                    name = header[0].lower()
                    if name == HEADER:
                        continue
                    if name == CONTENT_TYPE and header[1].startswith(PROBLEM_JSON):
                        seen.problem = True
                    cache_control = cache_control or name == CACHE_CONTROL
                    kept.append(header)
                kept.append(echo)
                if not cache_control:
                    kept.append(NO_STORE)
                message = {**message, "headers": kept}
                seen.started, seen.status = True, message["status"]
            elif (
                seen.problem
                and message["type"] == "http.response.body"
                and len(seen.body) < MAX_SNIFFED_BYTES
            ):
                seen.body += message.get("body", b"")
            await send(message)

        if self._declared_too_large(declared):
            await self._refuse(scope, receive, send_with_id)
            self._record(scope, request_id, seen, time.perf_counter() - started)
            REQUEST_ID.reset(token)
            return
        limit = self.max_body_bytes if declared is None else None
        try:
            await self.app(scope, _Receiver(receive, seen, limit), send_with_id)
        except ClientDisconnect:
            seen.client_gone = True  # gone mid-body: nobody to answer, nothing to alert on
        except asyncio.CancelledError:  # the server gave up on it: client gone, or shutdown
            seen.client_gone = seen.client_gone or not seen.started
            raise
        except Exception:
            if not seen.started:  # the app's 500 handler answers it, outside this middleware
                seen.status, seen.unhandled = 500, True
            raise
        finally:
            if seen.client_gone:
                seen.status, seen.unhandled = CLIENT_GONE, False
            self._record(scope, request_id, seen, time.perf_counter() - started)
            REQUEST_ID.reset(token)

    # --- the body limit ---------------------------------------------------------------------

    def _declared_too_large(self, declared: bytes | None) -> bool:
        limit = self.max_body_bytes
        if limit is None or declared is None:
            return False
        return not declared.isdigit() or int(declared) > limit

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        problem = Problem(413, "body_too_large", f"the request body is over {self.max_body_bytes} bytes")
        await problem_response(problem)(scope, receive, send)

    # --- metrics and the log line -----------------------------------------------------------

    def _record(self, scope: Scope, request_id: str, seen: _Exchange, seconds: float) -> None:
        route, method = route_of(scope), scope["method"]
        self.metrics.observe_request(route, method, seen.status, seconds)
        if seen.status == CLIENT_GONE:
            self.client_gone.labels(route, method if method in KNOWN_METHODS else "other", "499").inc()
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
