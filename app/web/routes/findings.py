"""The auditor's desk over HTTP: findings across all cases, and reproducible samples (issue 15)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from app.events.types import IDENTIFIER_PATTERN
from app.service import findings as desk
from app.service.keys import Principal
from app.store.findings import FindingFilter
from app.web.deps import Ctx, JSONResponse, require, today

router = APIRouter(tags=["audit"])
Auditor = Annotated[Principal, Depends(require("auditor"))]
Rule = Annotated[str | None, Query(pattern=r"^[a-z_]{1,64}$", description="one rule id")]
Provider = Annotated[str | None, Query(pattern=IDENTIFIER_PATTERN)]


class FindingOut(BaseModel):
    case_id: str
    rule: str = Field(description="the rule id (the API's refusal `rule`, or a report rule)")
    detail: str = Field(description="one sentence naming the dates and ids")
    on_day: date | None = Field(description="the date the finding is filed under (from/to)")
    event_ids: list[str]
    provider_id: str | None
    source: str = Field(description="`import`: an imported event kept as a fact; `rules`: a report")
    dates: dict[str, object]
    history: str = Field(description="the case's history, to check the finding against")


class FindingsOut(BaseModel):
    findings: list[FindingOut]
    next_cursor: str | None


class SampledCaseOut(BaseModel):
    case_id: str
    phase: str
    eligible_on: date | None
    closed_on: date | None
    draw: str = Field(description="sha256(seed || case_id), hex: the order drawn in")
    history: str


class SampleOut(BaseModel):
    seed: str
    cases: list[SampledCaseOut]


@router.get("/findings", response_model=FindingsOut, response_class=JSONResponse, operation_id="listFindings")
async def list_findings(
    ctx: Ctx,
    who: Auditor,
    rule: Rule = None,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: date | None = None,
    provider_id: Provider = None,
    case_id: Annotated[str | None, Query(pattern=IDENTIFIER_PATTERN, description="one case")] = None,
    eligible_days: Annotated[int, Query(ge=0, le=3650, description="eligible this long and open")] = 90,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
    limit: Annotated[int, Query(ge=1, le=desk.MAX_PAGE)] = 100,
) -> JSONResponse:
    """Every finding across cases, imported or live, in date order, each linking to the case's history."""
    f = FindingFilter(rule, from_, to, provider_id, today(), eligible_days, case_id)
    async with ctx.pool.acquire() as conn:
        rows, next_cursor = await desk.findings_page(conn, f, cursor, limit)
    return JSONResponse({"findings": rows, "next_cursor": next_cursor})


@router.get(
    "/audit/sample", response_model=SampleOut, response_class=JSONResponse, operation_id="drawAuditSample"
)
async def audit_sample(
    ctx: Ctx,
    who: Auditor,
    seed: Annotated[str, Query(min_length=1, max_length=100)],
    size: Annotated[int, Query(ge=1, le=1000)] = 25,
    status: Annotated[str | None, Query(pattern=r"^[a-z_]{1,32}$", description="stored phase")] = None,
    closed_from: date | None = None,
    closed_to: date | None = None,
) -> JSONResponse:
    """The same seed on the same data draws the same cases (ordered by sha256(seed || case_id))."""
    async with ctx.pool.acquire() as conn:
        cases = await desk.sample(conn, seed, size, status, closed_from, closed_to)
    return JSONResponse({"seed": seed, "cases": cases})
