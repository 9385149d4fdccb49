"""Liveness and readiness: the only routes without a key."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import Ctx, JSONResponse
from app.migrations import head_revision
from app.problems import Problem

router = APIRouter(tags=["health"])


@router.get("/healthz", response_class=JSONResponse)
async def healthz() -> JSONResponse:
    """The process is up."""
    return JSONResponse({"status": "ok"})


@router.get("/readyz", response_class=JSONResponse)
async def readyz(ctx: Ctx) -> JSONResponse:
    """The database answers and its schema is at the migrations' head; else 503."""
    try:
        async with ctx.pool.acquire(timeout=2) as conn:
            revision = await conn.fetchval("SELECT version_num FROM alembic_version", timeout=2)
    except Exception as exc:
        raise Problem(503, "not_ready", f"database not reachable ({type(exc).__name__})") from None
    head = head_revision()
    if revision != head:
        raise Problem(503, "not_ready", f"schema at revision {revision}, migrations head is {head}")
    return JSONResponse({"status": "ready", "revision": revision})
