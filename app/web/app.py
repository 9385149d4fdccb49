"""The FastAPI application: lifespan (pool, policy, handler), middleware, routers."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from app.service.append import AppendHandler
from app.service.case_keys import CaseKeys
from app.service.checkpoint_signer import interval_signer
from app.service.keys import KeyCache
from app.service.master_key_file import master_key_of
from app.service.policy import PolicyCache, seed_label
from app.service.state_cache import StateCache
from app.settings import Settings, get_settings
from app.store.db import DATABASE_DOWN, create_pool
from app.web import access_log, observability, ui
from app.web.context import AppContext
from app.web.openapi_doc import install_openapi
from app.web.plain import add_plain_routes
from app.web.problems import Problem, install_problem_handlers, problem_response
from app.web.routes import admin, audit, clock, events, findings, health, ledger, trust
from app.web.routes import policy as policy_routes

log = logging.getLogger("caseledger")
YOUNG_GENERATION_THRESHOLD = 10_000  # the collector's first generation, in objects (see the lifespan)


def create_app(settings: Settings | None = None, *, database_url: str | None = None) -> FastAPI:
    settings = settings or get_settings()
    database_url = database_url or os.environ.get("DATABASE_URL")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        url = database_url or settings.database_url
        if url is None:
            from app.store.embedded_pg import start_embedded_postgres

            # The service's own role, which can append but not rewrite (docs/trust.md).
            embedded = await asyncio.to_thread(
                start_embedded_postgres, settings.data_dir, app_role=settings.app_role
            )
            url = embedded.app_url
        pool = await create_pool(
            url,
            min_size=settings.pool_min_size,
            max_size=settings.pool_max_size,
            statement_timeout_ms=settings.statement_timeout_ms,
            connect_timeout_s=settings.db_connect_timeout_s,
        )
        # The policy is recorded history (docs/policy.md): the file only seeds an empty
        # database; later adoptions reach this process through the cache.
        policies = PolicyCache(pool)
        policy = await policies.start(settings.policy_table(), seed_label(settings.policy_id()))
        # The cache is bounded by the events its states hold (memory grows with a case's
        # history), besides its entries.
        cache = StateCache(max_events=settings.state_cache_events)
        # Personal values are sealed with a key per case, wrapped by the master key
        # (docs/privacy.md); reading its file is blocking I/O, so off the loop.
        case_keys = CaseKeys(await asyncio.to_thread(master_key_of, settings))
        handler = AppendHandler(
            pool,
            policy,
            retries=settings.append_retries,
            cache=cache,
            keys=case_keys,
            **observability.handler_hooks(app),
        )
        app.state.ctx = AppContext(settings, pool, policy, handler, KeyCache(), case_keys)
        app.state.policies = policies
        policies.on_change(lambda table: policy_routes.apply_policy(app.state.ctx, table))
        # Everything alive now (modules, routes, schemas) lives as long as the process:
        # freezing it keeps the collector's full passes from walking it again and again,
        # which paused the event loop for tens of milliseconds under load.
        gc.freeze()
        # A young generation of 700 objects (the default) meant a collection every dozen
        # appends, each walking what the new objects point into (a case's state): about
        # 30 µs of every append's CPU. A larger one collects less often for less in all
        # (docs/performance.md, "Garbage collection").
        gc.set_threshold(YOUNG_GENERATION_THRESHOLD, *gc.get_threshold()[1:])
        try:
            # Signs a checkpoint every interval when a key file is configured, else nothing.
            async with (
                interval_signer(settings, pool, policies.current),
                access_log.recording(app, pool),
                policies.watching(),
            ):
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
        # Starlette's trailing-slash redirect builds an absolute URL from the Host header
        # (`Host: evil.example` became `location: http://evil.example/...`): off. Every
        # redirect this service answers is a relative path (`app.web.ui.sign_in.redirect`).
        redirect_slashes=False,
        # FastAPI's own OpenTelemetry hooks asked the global providers on every request
        # whether an SDK was installed (about 5 us of a 300 us closure-clock read); this
        # service installs none: its requests are measured and logged by app.observability.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    install_openapi(app, PLAIN_OPERATIONS)
    install_problem_handlers(app)
    # Request id, metrics, access log and the body limit (413 before anything parses the
    # body), as one middleware added the documented way (app.web.observability).
    observability.install(app, settings)
    _install_database_down_handler(app)
    # The hot paths first: plain Starlette routes, matched before any included router.
    add_plain_routes(app, PLAIN_OPERATIONS)
    for module in (
        health,
        events,
        clock,
        ledger,
        audit,
        trust,
        findings,
        policy_routes,
        admin,
        observability,
        ui,
    ):
        app.include_router(module.router)
    access_log.install(app)  # who read which case (issue 13): middleware and GET /access-log
    return app


PLAIN_OPERATIONS = (*events.PLAIN_OPERATIONS, *clock.PLAIN_OPERATIONS)


def _install_database_down_handler(app: FastAPI) -> None:
    async def database_down(request: Any, exc: Exception) -> Any:
        log.warning("database unavailable: %s: %s", type(exc).__name__, str(exc)[:200])
        response = problem_response(
            Problem(503, "database_unavailable", "the database is not reachable; try again shortly"), request
        )
        response.headers["Retry-After"] = "1"
        return response

    for exc_type in DATABASE_DOWN:
        app.add_exception_handler(exc_type, database_down)


AppFactory = Callable[[], Awaitable[FastAPI]]
