"""An app with the policy history wired as the lifespan hook-up does it (docs/policy.md)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx

from app.domain.policy import DEFAULT_POLICY
from app.service.keys import create_key
from app.service.policy import PolicyCache, seed_label
from app.settings import Settings
from app.store.pool import Pool
from app.web.routes import policy as policy_routes
from tests.conftest import Api


async def policy_api(database_url: str, pool: Pool) -> AsyncIterator[tuple[Api, Any]]:
    """(client, app) on a fresh database: seeded, the cache followed by the request path."""
    from app.web.app import create_app

    app = create_app(Settings(database_url=database_url), database_url=database_url)
    app.include_router(policy_routes.router)
    keys = {}
    async with pool.acquire() as conn:
        for role in ("case_system", "auditor", "admin"):
            keys[role] = (await create_key(conn, role=role))[1]  # type: ignore[arg-type]
    async with app.router.lifespan_context(app):
        cache = PolicyCache(pool)
        table = await cache.start(DEFAULT_POLICY, seed_label("default"))
        ctx = app.state.ctx
        policy_routes.apply_policy(ctx, table)
        cache.on_change(lambda t: policy_routes.apply_policy(ctx, t))
        app.state.policies = cache
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield Api(client, keys), app
