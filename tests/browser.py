"""Headless Chromium for the UI tests: find it, serve the app to it signed in, read its DOM.

Chromium's command line cannot preset a cookie and, without script, cannot submit the
sign-in form: a test signs in for real over HTTP against `live_server` and hands the
cookie to `SignedInBrowser`, which adds it to each request the browser makes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest

from app.settings import Settings
from tests.security.live import serving


def chromium_binary() -> str | None:
    for name in (os.environ.get("CHROMIUM_BIN"), "chromium", "chromium-browser", "google-chrome"):
        if name and (found := shutil.which(name)):
            return found
    return None


class SignedInBrowser:
    """Test-only ASGI wrapper: adds the sign-in cookie to requests that carry none."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.cookie: bytes | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and self.cookie and not any(k == b"cookie" for k, _ in scope["headers"]):
            scope = {**scope, "headers": [*scope["headers"], (b"cookie", self.cookie)]}
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def live_server(database_url: str) -> Iterator[tuple[str, SignedInBrowser]]:
    from app.web.app import create_app

    wrapper = SignedInBrowser(create_app(Settings(database_url=database_url), database_url=database_url))
    with serving(wrapper) as base:
        yield base, wrapper


def run_chromium(binary: str, *args: str) -> str:
    with tempfile.TemporaryDirectory(prefix="caseledger-chromium-") as profile:
        done = subprocess.run(
            [
                binary,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--no-default-browser-check",
                "--hide-scrollbars",
                "--force-device-scale-factor=1",
                f"--user-data-dir={profile}",
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


class Elements(HTMLParser):
    """Every element's tag and attributes, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, {k: v or "" for k, v in attrs}))

    def having(self, **wanted: str) -> list[dict[str, str]]:
        return [a for _, a in self.found if all(a.get(k.replace("_", "-")) == v for k, v in wanted.items())]
