"""The service with one cost taken out, for a benchmark's "without" side (`Server(factory=...)`).

Bench-only: `caseledger serve` never runs these. Each is `create_app()` with the same
configuration, changed only where the benchmark says, through the switch the service
itself uses; the benchmark checks that the switch took (e.g. no access record written).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from app.web.app import create_app


def without_access_record() -> FastAPI:
    """Access records off: the middleware queues a record only while the app's state holds
    a recorder (`app.web.access_log`), which the lifespan sets; it is cleared here once the
    service has started, so requests run the middleware and record nothing."""
    app = create_app()
    started = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: Any) -> AsyncIterator[Any]:
        async with started(app_) as state:
            if getattr(app_.state, "access_recorder", None) is None:
                raise RuntimeError("no access recorder on app.state: the switch has moved")
            recorder, app_.state.access_recorder = app_.state.access_recorder, None
            try:
                yield state
            finally:
                app_.state.access_recorder = recorder

    app.router.lifespan_context = lifespan
    return app
