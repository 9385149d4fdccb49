"""Connection limits the HTTP server enforces before the application sees a request.

uvicorn alone holds an idle connection for ever, waits as long as a client likes
for headers or a body that trickle in, and accepts headers of any size and
number. Each of those lets a handful of sockets exhaust the process's file
descriptors or memory. `GuardedHttpTools` is uvicorn's httptools protocol with
four limits, counted by the server (not trusted to a reverse proxy, though
docs/operations.md gives one for production too):

- a new connection that sends nothing is closed after `idle_seconds`;
- a request whose headers and body are not all received within
  `request_seconds` of its first byte is answered 408 and closed;
- request headers (request line included) above `max_header_bytes`, or more
  than `max_headers` of them, are answered 431 and closed, counted as bytes
  arrive (a 32 MiB header is cut at the limit, not buffered first);
- between requests uvicorn's own keep-alive timeout applies (`timeout_keep_alive`).

uvicorn takes the protocol class by its public `http=` setting.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    max_header_bytes: int = 16 * 1024
    max_headers: int = 100
    idle_seconds: float = 10.0
    request_seconds: float = 20.0


DEFAULT_LIMITS = ConnectionLimits()
_STATUS_TEXT = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


class GuardedHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol with the limits above (class attribute `limits`)."""

    limits: ConnectionLimits = DEFAULT_LIMITS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._timer: asyncio.TimerHandle | None = None
        self._header_bytes = 0
        self._header_count = 0
        self._in_headers = False
        self._refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.limits.idle_seconds, self._close_idle)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if not self._in_headers and (self.cycle is None or self.cycle.response_complete):
            self._header_bytes = 0  # a new request starts with these bytes
        super().data_received(data)
        if self._in_headers and not self._refused:
            self._header_bytes += len(data)
            if self._header_bytes > self.limits.max_header_bytes:
                self._refuse(431, "request headers are over the size limit")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_headers, self._header_count = True, 0
        self._arm(self.limits.request_seconds, self._close_slow)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        if self._header_count > self.limits.max_headers:
            self._refuse(431, "too many request headers")
            return
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_headers = False
        if not self._refused:
            super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            super().on_body(body)

    def send_400_response(self, msg: str) -> None:
        if not self._refused:
            super().send_400_response(msg)

    def on_message_complete(self) -> None:
        self._disarm()
        if not self._refused:
            super().on_message_complete()

    def _arm(self, seconds: float, callback: Any) -> None:
        self._disarm()
        self._timer = self.loop.call_later(seconds, callback)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _close_idle(self) -> None:
        """Nothing arrived since the connection opened: close it quietly."""
        if self.cycle is None and not self._in_headers and not self.transport.is_closing():
            self.transport.close()

    def _close_slow(self) -> None:
        """The request did not arrive whole in time; a response already started is cut."""
        if self.cycle is None or not self.cycle.response_started:
            self._refuse(408, "the request did not arrive within the time limit")
        elif not self.transport.is_closing():
            self.transport.close()

    def _refuse(self, status: int, detail: str) -> None:
        """Answer a short problem+json and close; later bytes of this connection are ignored."""
        if self._refused or self.transport.is_closing():
            return
        self._refused = True
        self._disarm()
        code = "request_timeout" if status == 408 else "request_header_fields_too_large"
        body = (
            b'{"type":"https://caseledger.example/problems/'
            + code.encode()
            + b'","title":"'
            + _STATUS_TEXT[status]
            + b'","status":'
            + str(status).encode()
            + b',"code":"'
            + code.encode()
            + b'","detail":"'
            + detail.encode()
            + b'"}'
        )
        head = b"HTTP/1.1 %d %s\r\n" % (status, _STATUS_TEXT[status])
        headers = b"content-type: application/problem+json\r\nconnection: close\r\n"
        self.logger.info("refused a connection's request: %s (%d)", detail, status)
        self.transport.write(head + headers + b"content-length: %d\r\n\r\n" % len(body) + body)
        self.transport.close()


def guarded_protocol(limits: ConnectionLimits) -> type[GuardedHttpTools]:
    """The protocol class with other limits (tests use short ones)."""
    return type("GuardedHttpToolsWithLimits", (GuardedHttpTools,), {"limits": limits})


def server_options(
    limits: ConnectionLimits = DEFAULT_LIMITS, *, max_concurrency: int = 1000
) -> dict[str, Any]:
    """uvicorn settings of the service: the guarded protocol and the documented limits.

    `max_concurrency` caps connections and tasks (uvicorn answers 503 past it), well
    below a typical open-file limit so new clients are refused cleanly, not silently.
    """
    protocol = GuardedHttpTools if limits == DEFAULT_LIMITS else guarded_protocol(limits)
    return {
        "http": protocol,
        "timeout_keep_alive": 5,
        "limit_concurrency": max_concurrency,
        "timeout_graceful_shutdown": 10,
    }
