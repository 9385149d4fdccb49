"""The FastAPI application: lifespan (pool, policy, handler), middleware, routers."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import observability, ui
from app.api import admin, audit, clock, events, health, ledger
from app.auth import KeyCache
from app.context import AppContext
from app.db import create_pool
from app.handler import AppendHandler
from app.openapi_doc import install_openapi
from app.problems import Problem, install_problem_handlers, problem_response
from app.settings import Settings, get_settings

log = logging.getLogger("caseledger")
# What a database that is down, restarting or hung raises (answered 503, never 500):
# OperatorInterventionError covers 57P01 admin_shutdown and 57P02 crash_shutdown (the
# server stops under a running statement), 57P03 cannot_connect_now (starting up or
# shutting down) and 57014 query_canceled (statement_timeout); InternalClientError is what
# asyncpg raises on a pooled connection that received the server's FATAL shutdown message
# while idle ("cannot switch to state ..."); TimeoutError: connect, acquire or command
# timeout (app.db bounds each).
DATABASE_DOWN = (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError,
                 asyncpg.OperatorInterventionError, asyncpg.InternalClientError,
                 asyncpg.TooManyConnectionsError, TimeoutError)


class BodyLimit:
    """Refuse a body over the limit with 413 before anything parses it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if not declared.isdigit() or int(declared) > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        # No declared length (chunked): read at most the limit first, then replay it.
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        problem = Problem(413, "body_too_large", f"the request body is over {self.max_bytes} bytes")
        await problem_response(problem)(scope, receive, send)


def create_app(settings: Settings | None = None, *, database_url: str | None = None) -> FastAPI:
    settings = settings or get_settings()
    database_url = database_url or os.environ.get("DATABASE_URL")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        url = database_url or settings.database_url
        if url is None:
            from app.embedded_pg import start_embedded_postgres

            url = (await asyncio.to_thread(start_embedded_postgres, settings.data_dir)).url
        pool = await create_pool(
            url, min_size=settings.pool_min_size, max_size=settings.pool_max_size,
            statement_timeout_ms=settings.statement_timeout_ms,
            connect_timeout_s=settings.db_connect_timeout_s,
        )
        policy = settings.policy_table()
        handler = AppendHandler(pool, policy, retries=settings.append_retries,
                                **observability.handler_hooks(app))
        app.state.ctx = AppContext(settings, pool, policy, handler, KeyCache())
        try:
            yield
        finally:
            await pool.close()

    app = FastAPI(
        title="caseledger",
        version="0.1.0",
        summary="Closure clock and PBA payment ledger for vocational-rehabilitation cases",
        lifespan=lifespan,
        # Every endpoint but the health checks needs a key (contract 6): the schema
        # is served by app.api.health behind one, and the interactive docs are off.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    install_openapi(app)
    install_problem_handlers(app)
    observability.install(app, settings)
    _install_database_down_handler(app)
    for module in (health, events, clock, ledger, audit, admin, observability, ui):
        app.include_router(module.router)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    return app


def _install_database_down_handler(app: FastAPI) -> None:
    async def database_down(request: Any, exc: Exception) -> Any:
        log.warning("database unavailable: %s: %s", type(exc).__name__, str(exc)[:200])
        response = problem_response(Problem(503, "database_unavailable",
                                            "the database is not reachable; try again shortly"), request)
        response.headers["Retry-After"] = "1"
        return response

    for exc_type in DATABASE_DOWN:
        app.add_exception_handler(exc_type, database_down)


AppFactory = Callable[[], Awaitable[FastAPI]]
