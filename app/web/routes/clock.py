"""The closure clock of a case, the closure worklist and post-employment decision support."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from app.domain.clock import clock_facts, clock_on, status_on
from app.domain.pes_checklist import PesDecision, PesRequest, evaluate_post_employment_service
from app.projections.closure_clock import decode_cursor, encode_cursor, read_clock_facts, worklist
from app.service import reads
from app.service.keys import Principal
from app.web.deps import CaseId, Ctx, JSONResponse, KnownAt, require, today
from app.web.problems import Problem

router = APIRouter(tags=["closure clock"])
Reader = Annotated[Principal, Depends(require("case_system", "auditor"))]
Status = Literal[
    "not_employed", "awaiting_m4", "waiting", "running", "eligible", "follow_up_cancelled", "closed"
]


class ClockOut(BaseModel):
    case_id: str
    as_of: date
    status: Status
    clock_start: date | None
    clock_start_rule: str | None
    clock_start_event_id: UUID | None
    eligible_on: date | None
    days_remaining: int | None
    blocking: list[str]
    version: int


class WorklistItem(BaseModel):
    case_id: str
    status: Status
    clock_start: date | None
    eligible_on: date | None
    days_remaining: int | None


class WorklistOut(BaseModel):
    as_of: date
    items: list[WorklistItem]
    next_cursor: str | None


@router.get("/cases/{case_id}/closure-clock", response_model=ClockOut, response_class=JSONResponse)
async def get_closure_clock(
    case_id: CaseId,
    ctx: Ctx,
    who: Reader,
    as_of: Annotated[date | None, Query(description="evaluation date (default today, UTC)")] = None,
    known_at: KnownAt = None,
) -> JSONResponse:
    """Where the case stands on the 90-day timeline, and what still holds it (contract 3.8)."""
    day = as_of or today()
    async with ctx.pool.acquire() as conn:
        # As the case stands now: its stored closure-clock row. As known at an
        # earlier moment: a fold of the events recorded by then.
        stored = None if known_at is not None else await read_clock_facts(conn, case_id)
        if stored is not None:
            facts, version = stored
        else:
            state, version = await reads.case_state(conn, case_id, known_at=known_at, cache=ctx.handler.cache)
            facts = clock_facts(state.clock, ctx.policy)
    view = clock_on(facts, day)
    return JSONResponse(
        {
            "case_id": case_id,
            "as_of": day,
            "status": view.status,
            "clock_start": view.clock_start,
            "clock_start_rule": view.clock_start_rule,
            "clock_start_event_id": view.clock_start_event_id,
            "eligible_on": view.eligible_on,
            "days_remaining": view.days_remaining,
            "blocking": list(view.blocking),
            "version": version,
        }
    )


@router.get("/closure-clock/worklist", response_model=WorklistOut, response_class=JSONResponse)
async def closure_worklist(
    ctx: Ctx,
    who: Reader,
    status: Status | None = None,
    eligible_by: Annotated[date | None, Query(description="eligible_on on or before")] = None,
    as_of: Annotated[date | None, Query(description="evaluation date for status (default today)")] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> JSONResponse:
    """Cases by status and eligible date, ordered by eligible_on, keyset-paged by `cursor`."""
    day = as_of or today()
    if cursor is not None:
        try:
            decode_cursor(cursor)
        except ValueError:
            raise Problem(422, "invalid_request", "cursor is not one this service gave out") from None
    async with ctx.pool.acquire() as conn:
        rows = await worklist(
            conn,
            as_of=day,
            status=status,
            eligible_by=eligible_by,
            cursor=cursor,
            limit=limit + 1,
            policy=ctx.policy,
        )
    page = rows[:limit]
    items = [
        {
            "case_id": r["case_id"],
            "status": status_on(r["phase"], r["clock_start"], r["eligible_on"], day),
            "clock_start": r["clock_start"],
            "eligible_on": r["eligible_on"],
            "days_remaining": max((r["eligible_on"] - day).days, 0)
            if r["eligible_on"] and r["phase"] == "in_follow_up"
            else None,
        }
        for r in page
    ]
    next_cursor = encode_cursor(page[-1]["eligible_on"], page[-1]["case_id"]) if len(rows) > limit else None
    return JSONResponse({"as_of": day, "items": items, "next_cursor": next_cursor})


@router.post(
    "/cases/{case_id}/post-employment-services/evaluate",
    response_model=PesDecision,
    response_class=JSONResponse,
)
async def evaluate_post_employment_service_request(
    case_id: CaseId,
    body: PesRequest,
    ctx: Ctx,
    who: Reader,
) -> JSONResponse:
    """Seed 000's checklist (maintain / regain / advance) as decision support; records nothing."""
    async with ctx.pool.acquire() as conn:
        state, _ = await reads.case_state(conn, case_id, cache=ctx.handler.cache)
    decision = evaluate_post_employment_service(body, state.clock)
    return JSONResponse(decision.model_dump(mode="json"))
