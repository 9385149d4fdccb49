"""The real app served by uvicorn on a loopback socket: in a thread with its own event
loop (`live_server`) or in a process of its own (`server_process`). What a client
measures against it is what a client of the service would see (a stalled loop there
shows as a slow answer here)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn

from app.settings import REPO_ROOT, Settings


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """The base URL of an ASGI app served by uvicorn on 127.0.0.1 until the block ends."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_config=None, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "the test server did not start"
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def live_server(database_url: str) -> Iterator[str]:
    """The base URL of the app served on 127.0.0.1 until the block ends."""
    from app.web.app import create_app

    with serving(create_app(Settings(database_url=database_url), database_url=database_url)) as url:
        yield url


@contextmanager
def server_process(database_url: str) -> Iterator[str]:
    """The base URL of the app served by uvicorn in a process of its own (as in
    production): a client in the test process then shares no interpreter lock with it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": database_url, "CASELEDGER_LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-m", "uvicorn", "app.web.app:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    process = subprocess.Popen(command, env=env, cwd=REPO_ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        assert process.poll() is None, "the server process exited"
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)
