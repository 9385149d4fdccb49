"""Attacks with a request body (issue 14, item 4), over a real socket to the real app.

A client that sends half a body and hangs up used to be logged as a 500 with a stack
trace and counted as a 5xx (false alerts); the append path also read the whole body
before it checked the key.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from tests.security.live import live_server


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if all(r is not record for r in self.records):  # seen once, whichever logger had it
            self.records.append(record)


@pytest.fixture
def records() -> Iterator[Records]:
    handler = Records()
    # The root logger (uvicorn's and the app's errors) and the access log, which does not
    # propagate to it.
    loggers = [logging.getLogger(), logging.getLogger("caseledger.access")]
    for logger in loggers:
        logger.addHandler(handler)
    yield handler
    for logger in loggers:
        logger.removeHandler(handler)


@pytest.fixture(scope="module")
def base(database_url: str) -> Iterator[str]:
    with live_server(database_url) as url:
        yield url


async def _send(base: str, head: bytes, body: bytes, *, wait_for_answer: float) -> bytes:
    """Send the head and part of a body, read for a while, then hang up."""
    parts = urlsplit(base)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    writer.write(head + body)
    await writer.drain()
    try:
        answer = await asyncio.wait_for(reader.read(65536), timeout=wait_for_answer)
    except TimeoutError:
        answer = b""
    writer.close()
    await writer.wait_closed()
    return answer


def _head(case_id: str, key: str | None, length: int) -> bytes:
    lines = [
        f"POST /cases/{case_id}/events HTTP/1.1",
        "Host: 127.0.0.1",
        "Content-Type: application/json",
        f"Content-Length: {length}",
        "X-Request-ID: half-a-body",
    ]
    if key:
        lines.append(f"Authorization: Bearer {key}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def test_half_a_body_then_a_hang_up_is_499_at_info_not_a_5xx(base, api, case_id, records):
    head = _head(case_id, api.keys["case_system"], 10_000)
    answer = await _send(base, head, b'{"events": [{"type": "CaseOpened", ', wait_for_answer=0.3)
    assert answer == b"", "nothing is answered before the body is complete"
    await asyncio.sleep(0.3)  # the server notices the hang-up

    access = [r for r in records.records if getattr(r, "request_id", None) == "half-a-body"]
    assert [(r.levelno, r.status) for r in access] == [(logging.INFO, 499)]  # type: ignore[attr-defined]
    assert not [r for r in records.records if r.levelno >= logging.WARNING or r.exc_info]
    async with httpx.AsyncClient(base_url=base) as client:
        metrics = (await client.get("/metrics", headers=api.headers("auditor"))).text
    gone = 'caseledger_http_client_gone_total{method="POST",route="/cases/{case_id}/events",status="499"}'
    assert f"{gone} 1.0" in metrics
    assert 'route="/cases/{case_id}/events",status_class="5xx"' not in metrics


async def test_the_key_is_checked_before_the_body_is_read(base, case_id, records):
    """Attack: hold the server reading a large body without any key. The answer is 401
    at once, while the declared body is still mostly unsent."""
    answer = await _send(base, _head(case_id, None, 900_000), b"{" + b" " * 1000, wait_for_answer=2)
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
    bad_key = await _send(base, _head(case_id, "cl_wrong", 900_000), b"{", wait_for_answer=2)
    assert bad_key.startswith(b"HTTP/1.1 401"), bad_key[:200]
