"""Audit replay and hash-chain verification of a case."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from app.service.keys import Principal
from app.store import stream_pages
from app.store import streams as store
from app.web.deps import CaseId, Ctx, JSONResponse, KnownAt, require
from app.web.history_page import MAX_PAGE, PageRequest, read_history_page
from app.web.offload import off_loop
from app.web.problems import Problem
from app.web.schemas import HistoryOut, VerifyOut

router = APIRouter(tags=["audit"])
Auditor = Annotated[Principal, Depends(require("auditor", "case_system"))]
FromVersion = Annotated[
    int, Query(ge=1, le=2**31 - 1, description="the page's first version (from next_from_version)")
]
HistoryLimit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"events per page, at most {MAX_PAGE}")]


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
    from_version: FromVersion = 1,
    limit: HistoryLimit = MAX_PAGE,
) -> JSONResponse:
    """Every event in order, retracted ones marked, with what each changed in clock and ledger.

    Paged: at most `limit` events (500 at most) from `from_version`; `next_from_version`
    is the next page's first version, null on the last page.
    """
    q = PageRequest(case_id, from_version, limit, known_at, as_of)
    async with ctx.pool.acquire() as conn:
        page = await read_history_page(conn, q, ctx.policy, ctx.case_keys)
    if page is None:
        raise Problem(404, "case_not_found", f"no case {case_id}")
    return JSONResponse(
        {
            "case_id": case_id,
            "known_at": known_at,
            "events": page.rows,
            "next_from_version": page.next_from_version,
        }
    )


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
        texts = await stream_pages.read_as_json(conn, case_id)
    if not texts:
        raise Problem(404, "case_not_found", f"no case {case_id}")
    # A hash per event: for a long case, far more than a few milliseconds of the loop.
    return JSONResponse({"case_id": case_id, **await off_loop(_verified, texts)})


def _verified(texts: list[str]) -> dict[str, Any]:
    return store.verify_stream(stream_pages.events_of_json(texts))
