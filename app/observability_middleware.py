"""A pure ASGI middleware: request id, latency histogram, one JSON log line per request.

It sits outside everything else (see `observability.install`), so 413s from the
body limit and 500s from the server-error middleware carry `X-Request-ID` too.
Labels and log fields use the route template (`/cases/{case_id}/events`), never
the raw path; a path no route matches is `unmatched`.
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

from app.observability_logging import REQUEST_ID
from app.observability_metrics import Metrics

log = logging.getLogger("caseledger.access")
HEADER = b"x-request-id"
VALID_REQUEST_ID = re.compile(rb"[A-Za-z0-9._-]{1,128}")
VALID_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
PROBLEM_JSON = b"application/problem+json"
MAX_SNIFFED_BYTES = 64 * 1024
CLIENT_GONE = 499  # cancelled before an answer (client went away, server shutting down)


def request_id_of(headers: list[tuple[bytes, bytes]]) -> str:
    """The client's X-Request-ID when it is 1-128 chars of [A-Za-z0-9._-], else a new one."""
    for name, value in headers:
        if name == HEADER:
            if VALID_REQUEST_ID.fullmatch(value):
                return value.decode("ascii")
            break
    return os.urandom(16).hex()


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
        if isinstance(v := params.get(k), str) and VALID_ID.fullmatch(v)
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
        return code if isinstance(code, str) and VALID_ID.fullmatch(code) else None


class RequestObservability:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = request_id_of(scope["headers"])
        token = REQUEST_ID.set(request_id)
        seen = _Exchange()
        echo = (HEADER, request_id.encode("ascii"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", ()) if h[0].lower() != HEADER]
                message = {**message, "headers": [*headers, echo]}
                seen.started, seen.status = True, message["status"]
                seen.problem = any(
                    k.lower() == b"content-type" and v.startswith(PROBLEM_JSON) for k, v in headers
                )
            elif (
                seen.problem
                and message["type"] == "http.response.body"
                and len(seen.body) < MAX_SNIFFED_BYTES
            ):
                seen.body += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except asyncio.CancelledError:
            if not seen.started:
                seen.status = CLIENT_GONE
            raise
        finally:
            self._record(scope, request_id, seen, time.perf_counter() - started)
            REQUEST_ID.reset(token)

    def _record(self, scope: Scope, request_id: str, seen: _Exchange, seconds: float) -> None:
        route, method = route_of(scope), scope["method"]
        self.metrics.observe_request(route, method, seen.status, seconds)
        code = seen.code()
        if code is not None:
            self.metrics.observe_problem(code)
        level = logging.ERROR if 500 <= seen.status < 600 else logging.INFO
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
