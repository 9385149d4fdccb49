"""The closure clock of a case, the closure worklist and post-employment decision support."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from app.domain.clock import status_on
from app.domain.pes_checklist import PesDecision, PesRequest, evaluate_post_employment_service
from app.projections.closure_clock import decode_cursor, encode_cursor
from app.service import reads
from app.service.keys import Principal
from app.store.read_models import worklist
from app.web.access_log import answered_cases
from app.web.deps import (
    CaseId,
    CaseIdField,
    Ctx,
    JSONResponse,
    KnownAtField,
    allowing,
    authorize,
    require,
    today,
)
from app.web.plain import Parameters, PlainOperation
from app.web.problems import Problem

TAG = "closure clock"
router = APIRouter(tags=[TAG])
READERS = allowing("case_system", "auditor")
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
    explanation: list[str]
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


class ClockParameters(BaseModel):
    case_id: CaseIdField
    as_of: date | None = Field(None, description="evaluation date (default today, UTC)")
    known_at: KnownAtField = None


class WorklistParameters(BaseModel):
    status: Status | None = None
    eligible_by: date | None = Field(None, description="eligible_on on or before")
    as_of: date | None = Field(None, description="evaluation date for status (default today)")
    cursor: str | None = Field(None, max_length=200)
    limit: int = Field(100, ge=1, le=1000)


CLOCK_PARAMETERS = Parameters(ClockParameters, "/cases/{case_id}/closure-clock")
WORKLIST_PARAMETERS = Parameters(WorklistParameters, "/closure-clock/worklist")


async def get_closure_clock(request: Request) -> Response:
    """Where the case stands on the 90-day timeline, and what still holds it (contract 3.8).

    Role `case_system` or `auditor`.
    """
    await authorize(request, READERS)
    q = CLOCK_PARAMETERS.read(request)
    ctx = request.app.state.ctx
    day = q.as_of or today()
    async with ctx.pool.acquire() as conn:
        # The service answers from the stored row or a fold (business time, known_at).
        view, version = await reads.closure_clock(
            conn, q.case_id, as_of=day, known_at=q.known_at, policy=ctx.policy, cache=ctx.handler.cache
        )
    return JSONResponse(
        {
            "case_id": q.case_id,
            "as_of": day,
            "status": view.status,
            "clock_start": view.clock_start,
            "clock_start_rule": view.clock_start_rule,
            "clock_start_event_id": view.clock_start_event_id,
            "eligible_on": view.eligible_on,
            "days_remaining": view.days_remaining,
            "blocking": list(view.blocking),
            "explanation": list(view.explanation),
            "version": version,
        }
    )


async def closure_worklist(request: Request) -> Response:
    """Cases by status and eligible date, ordered by eligible_on, keyset-paged by `cursor`.

    Role `case_system` or `auditor`.
    """
    await authorize(request, READERS)
    q = WORKLIST_PARAMETERS.read(request)
    ctx = request.app.state.ctx
    day = q.as_of or today()
    if q.cursor is not None:
        try:
            decode_cursor(q.cursor)
        except ValueError:
            raise Problem(422, "invalid_request", "cursor is not one this service gave out") from None
    async with ctx.pool.acquire() as conn:
        rows = await worklist(
            conn,
            as_of=day,
            status=q.status,
            eligible_by=q.eligible_by,
            cursor=q.cursor,
            limit=q.limit + 1,
            policy=ctx.policy,
        )
    page = rows[: q.limit]
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
    more = len(rows) > q.limit
    next_cursor = encode_cursor(page[-1]["eligible_on"], page[-1]["case_id"]) if more else None
    answered_cases(request, (r["case_id"] for r in page))  # its access record names them
    return JSONResponse({"as_of": day, "items": items, "next_cursor": next_cursor})


PLAIN_OPERATIONS = (
    PlainOperation(
        "GET",
        "/cases/{case_id}/closure-clock",
        get_closure_clock,
        "getClosureClock",
        TAG,
        ClockOut,
        ClockParameters,
    ),
    PlainOperation(
        "GET",
        "/closure-clock/worklist",
        closure_worklist,
        "listClosureWorklist",
        TAG,
        WorklistOut,
        WorklistParameters,
    ),
)


@router.post(
    "/cases/{case_id}/post-employment-services/evaluate",
    response_model=PesDecision,
    response_class=JSONResponse,
    operation_id="evaluatePostEmploymentService",
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
    decision = evaluate_post_employment_service(body, state.clock, as_of=today())
    return JSONResponse(decision.model_dump(mode="json"))
