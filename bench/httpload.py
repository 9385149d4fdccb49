"""Load generators for the HTTP benchmarks: httpx.AsyncClient, and a light raw HTTP/1.1 client.

On a 2-core machine the client shares the CPU with the server and PostgreSQL,
so every run reports the client's own CPU (CpuSplit): when httpx takes most of
a core the figure measures httpx, which is why the raw keep-alive client
(asyncio streams, one connection per concurrent client, no parsing beyond the
status line and Content-Length) is run beside it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.common import CpuSplit, percentile


class RawConnection:
    """One keep-alive HTTP/1.1 connection; requests are sent one at a time."""

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        self.fixed = "".join(f"{k}: {v}\r\n" for k, v in {"Host": f"{host}:{port}", **headers}.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        if self.writer is None:
            await self._open()
        assert self.reader is not None and self.writer is not None
        head = f"{method} {path} HTTP/1.1\r\n{self.fixed}"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + (body or b""))
        raw_head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(raw_head[9:12])
        length = 0
        for line in raw_head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
            elif name.lower() == b"connection" and value.strip().lower() == b"close":
                self.writer = None
        payload = await self.reader.readexactly(length) if length else b""
        return status, payload

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


class HttpxConnection:
    """The same interface over one shared httpx.AsyncClient."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        headers = {"Content-Type": "application/json"} if body is not None else None
        r = await self.client.request(method, path, content=body, headers=headers)
        return r.status_code, r.content

    async def close(self) -> None:
        pass


@dataclass
class LoadResult:
    requests: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    cpu: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def summary(self) -> dict[str, Any]:
        lat = self.latencies
        return {
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "rate": self.rate,
            "p50_ms": percentile(lat, 50) * 1e3,
            "p90_ms": percentile(lat, 90) * 1e3,
            "p99_ms": percentile(lat, 99) * 1e3,
            "max_ms": max(lat, default=0) * 1e3,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "cpu": self.cpu,
        }


# A worker: given its connection, performs one request and returns its status.
Step = Callable[[Any, int], Awaitable[int]]


async def run_load(
    kind: str,
    host: str,
    port: int,
    key: str,
    concurrency: int,
    seconds: float,
    step: Step,
    *,
    warmup: float = 0.5,
    server_pids: Callable[[], list[int]] | None = None,
) -> LoadResult:
    """`concurrency` clients call step(conn, client_index) in a loop; measures the timed window."""
    headers = {"Authorization": f"Bearer {key}"}
    result = LoadResult()
    counting = False
    stop = False
    shared: httpx.AsyncClient | None = None
    if kind == "httpx":
        shared = httpx.AsyncClient(
            base_url=f"http://{host}:{port}",
            headers=headers,
            timeout=30,
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        )

    async def client(i: int) -> None:
        conn: Any = HttpxConnection(shared) if shared is not None else RawConnection(host, port, headers)
        try:
            while not stop:
                t = time.perf_counter()
                status = await step(conn, i)
                if counting:
                    result.latencies.append(time.perf_counter() - t)
                    result.requests += 1
                    result.statuses[status] = result.statuses.get(status, 0) + 1
        finally:
            await conn.close()

    tasks = [asyncio.create_task(client(i)) for i in range(concurrency)]
    try:
        await asyncio.sleep(warmup)
        with CpuSplit(server_pids) as cpu:
            counting = True
            await asyncio.sleep(seconds)
            counting = False
        stop = True
        await asyncio.gather(*tasks)
    finally:
        stop = True
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if shared is not None:
            await shared.aclose()
    result.seconds = cpu.wall
    result.cpu = cpu.as_dict(result.requests)
    return result
