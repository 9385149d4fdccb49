"""Liveness and readiness: the only routes without a key."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from app.service.keys import Principal
from app.store.readiness import head_revision, schema_revision
from app.web.deps import Ctx, JSONResponse, current_principal
from app.web.problems import Problem
from app.web.schemas import HealthOut, ReadyOut

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthOut, response_class=JSONResponse, operation_id="getHealth")
async def healthz() -> JSONResponse:
    """The process is up."""
    return JSONResponse({"status": "ok"})


@router.get("/readyz", response_model=ReadyOut, response_class=JSONResponse, operation_id="getReadiness")
async def readyz(ctx: Ctx) -> JSONResponse:
    """The database answers and its schema is at the migrations' head; else 503."""
    try:
        async with ctx.pool.acquire(timeout=2) as conn:
            revision = await schema_revision(conn, within_seconds=2)
    except Exception as exc:
        raise Problem(503, "not_ready", f"database not reachable ({type(exc).__name__})") from None
    head = head_revision()
    if revision != head:
        raise Problem(503, "not_ready", f"schema at revision {revision}, migrations head is {head}")
    return JSONResponse({"status": "ready", "revision": revision})


@router.get("/openapi.json", include_in_schema=False, response_class=JSONResponse)
async def openapi_document(
    request: Request, who: Annotated[Principal, Depends(current_principal)]
) -> JSONResponse:
    """The OpenAPI document (also committed as openapi.yaml), for any valid key."""
    return JSONResponse(request.app.openapi())
