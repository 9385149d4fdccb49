"""Audit replay and hash-chain verification of a case."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from app.service.history import case_history
from app.service.keys import Principal
from app.service.reads import to_fact
from app.store import streams as store
from app.web.deps import CaseId, Ctx, JSONResponse, KnownAt, require
from app.web.problems import Problem
from app.web.schemas import HistoryOut, VerifyOut

router = APIRouter(tags=["audit"])
Auditor = Annotated[Principal, Depends(require("auditor", "case_system"))]


@router.get(
    "/cases/{case_id}/history",
    response_model=HistoryOut,
    response_class=JSONResponse,
    operation_id="getCaseHistory",
)
async def history(
    case_id: CaseId,
    ctx: Ctx,
    who: Auditor,
    known_at: KnownAt = None,
    as_of: Annotated[date | None, Query(description="judge the clock's status on this date")] = None,
) -> JSONResponse:
    """Every event in order, retracted ones marked, with what each changed in clock and ledger."""
    async with ctx.pool.acquire() as conn:
        events = await store.read_stream(conn, case_id, known_at=known_at)
    if not events:
        raise Problem(404, "case_not_found", f"no case {case_id}")
    rows = case_history(events, [to_fact(e) for e in events], ctx.policy, as_of=as_of)
    return JSONResponse({"case_id": case_id, "known_at": known_at, "events": rows})


@router.get(
    "/cases/{case_id}/verify",
    response_model=VerifyOut,
    response_class=JSONResponse,
    operation_id="verifyCase",
)
async def verify(
    case_id: CaseId, ctx: Ctx, who: Annotated[Principal, Depends(require("auditor"))]
) -> JSONResponse:
    """Recompute the case's hash chain; say where it breaks and how."""
    async with ctx.pool.acquire() as conn:
        events = await store.read_stream(conn, case_id)
    if not events:
        raise Problem(404, "case_not_found", f"no case {case_id}")
    return JSONResponse({"case_id": case_id, **store.verify_stream(events)})
