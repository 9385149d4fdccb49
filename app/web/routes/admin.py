"""Administration over HTTP: API keys and projection rebuild (role admin only)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from app.events.types import IDENTIFIER_PATTERN
from app.service.keys import Principal, create_key, list_keys, revoke_key
from app.store.ui_sessions import end_sessions_of_key
from app.web.deps import Ctx, JSONResponse, require
from app.web.problems import Problem
from app.web.schemas import KeysOut

router = APIRouter(prefix="/admin", tags=["admin"])
Admin = Annotated[Principal, Depends(require())]


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["case_system", "provider", "auditor", "admin"]
    provider_id: str | None = Field(None, pattern=IDENTIFIER_PATTERN)
    label: str | None = Field(None, max_length=200, pattern=r"^[^\x00]*$")


class KeyOut(BaseModel):
    key_id: str
    key: str = Field(description="Shown once; only its SHA-256 is stored")
    role: str
    provider_id: str | None


@router.post(
    "/api-keys",
    status_code=201,
    response_model=KeyOut,
    response_class=JSONResponse,
    operation_id="createApiKey",
)
async def create_api_key(body: KeyIn, ctx: Ctx, who: Admin) -> JSONResponse:
    try:
        async with ctx.pool.acquire() as conn:
            key_id, key = await create_key(
                conn, role=body.role, provider_id=body.provider_id, label=body.label
            )
    except ValueError as exc:
        raise Problem(422, "invalid_request", str(exc)) from None
    return JSONResponse(
        {"key_id": key_id, "key": key, "role": body.role, "provider_id": body.provider_id},
        status_code=201,
    )


@router.get("/api-keys", response_model=KeysOut, response_class=JSONResponse, operation_id="listApiKeys")
async def list_api_keys(ctx: Ctx, who: Admin) -> JSONResponse:
    """Every key's id, role and state; never a key itself."""
    async with ctx.pool.acquire() as conn:
        rows = await list_keys(conn)
    return JSONResponse({"keys": [dict(r) for r in rows]})


@router.delete("/api-keys/{key_id}", status_code=204, operation_id="revokeApiKey")
async def revoke_api_key(key_id: str, ctx: Ctx, who: Admin) -> Response:
    """Revoke a key and end its UI sessions; every replica refuses the key within the key
    cache's few seconds, and its sessions at once (they are looked up on each page)."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        if not await revoke_key(conn, key_id):
            raise Problem(404, "not_found", f"no active key {key_id}")
        await end_sessions_of_key(conn, key_id)
    ctx.keys.forget(key_id)
    return Response(status_code=204)
