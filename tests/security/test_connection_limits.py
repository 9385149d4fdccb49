"""Attacks on the HTTP server itself (issue: hardening), performed over a real socket.

Idle sockets, headers that trickle in, a 32 MiB Authorization header and 100,000
headers: each must be cut by the server the service runs (`server_options`),
while an ordinary request still gets its answer.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator

import pytest
import uvicorn

from app.web.connection_limits import ConnectionLimits, server_options

# Short limits so the attacks finish in a second; the sizes are the real defaults.
LIMITS = ConnectionLimits(idle_seconds=0.5, request_seconds=1.0)


async def hello(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture
async def port() -> AsyncIterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    config = uvicorn.Config(
        hello, host="127.0.0.1", port=free, log_level="warning", lifespan="off", **server_options(LIMITS)
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn.Server offers a flag, no event)
        await asyncio.sleep(0.01)
    yield free
    server.should_exit = True
    await task


async def exchange(port: int, *chunks: bytes, pause: float = 0.0) -> bytes:
    """Send the chunks (pausing between them) while reading, until the server closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    received = bytearray()

    async def read_all() -> None:
        try:
            while chunk := await reader.read(65536):
                received.extend(chunk)
        except ConnectionResetError:
            pass

    reading = asyncio.create_task(read_all())
    try:
        for chunk in chunks:
            if reading.done():
                break
            writer.write(chunk)
            await writer.drain()
            await asyncio.sleep(pause)
    except (ConnectionResetError, BrokenPipeError):
        pass
    await asyncio.wait_for(reading, timeout=5)
    writer.close()
    return bytes(received)


async def test_an_ordinary_request_is_answered(port: int) -> None:
    answer = await exchange(port, b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"ok")


async def test_an_idle_connection_is_closed(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.monotonic()
    assert await asyncio.wait_for(reader.read(), timeout=5) == b""  # closed by the server
    assert time.monotonic() - started < 3
    writer.close()


async def test_a_32_mib_authorization_header_is_refused_at_the_size_limit(port: int) -> None:
    head = b"GET /cases/x/closure-clock HTTP/1.1\r\nhost: x\r\nauthorization: Bearer "
    answer = await exchange(port, head, b"a" * 64 * 1024, b"a" * 64 * 1024)
    assert answer.startswith(b"HTTP/1.1 431")
    assert b"request_header_fields_too_large" in answer


async def test_a_hundred_thousand_headers_are_refused(port: int) -> None:
    many = b"".join(b"x-%d: 1\r\n" % i for i in range(101))
    answer = await exchange(port, b"GET / HTTP/1.1\r\nhost: x\r\n" + many + b"\r\n")
    assert answer.startswith(b"HTTP/1.1 431")


async def test_headers_that_trickle_in_are_cut(port: int) -> None:
    started = time.monotonic()
    slow = [b"GET / HTTP/1.1\r\n"] + [b"x-slow: 1\r\n"] * 20
    answer = await exchange(port, *slow, pause=0.1)
    assert answer.startswith(b"HTTP/1.1 408")
    assert time.monotonic() - started < 2.5


async def test_a_body_that_trickles_in_is_cut(port: int) -> None:
    head = b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n"
    answer = await exchange(port, head, *([b"x"] * 30), pause=0.1)
    assert answer.startswith(b"HTTP/1.1 408")
