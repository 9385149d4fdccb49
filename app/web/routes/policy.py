"""The policy table as recorded history over HTTP: adopt, list, preview (docs/policy.md)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from app.domain.policy import DEFAULT_RETENTION_YEARS, MAX_RETENTION_YEARS, PolicyTable
from app.events.types import IDENTIFIER_PATTERN
from app.service import policy as policies
from app.service.keys import Principal
from app.service.policy_preview import preview, refresh_changed
from app.web.context import AppContext
from app.web.deps import Ctx, JSONResponse, KnownAt, require, today
from app.web.problems import Problem

router = APIRouter(prefix="/policy", tags=["policy"])
Admin = Annotated[Principal, Depends(require("admin"))]
Lister = Annotated[Principal, Depends(require("admin", "auditor", "case_system"))]
Previewer = Annotated[Principal, Depends(require("admin", "auditor"))]
Amount = str | int | float


class PolicyRowIn(BaseModel):
    """One row shaped like the policy file's rows (amounts as "1000.00" or numbers)."""

    model_config = ConfigDict(extra="forbid")
    effective_from: date
    closure_wait_days: int = Field(ge=1, le=3650)
    milestone_rates: dict[str, Amount]
    pba_cap_per_consumer: Amount
    retention_years: int = Field(
        DEFAULT_RETENTION_YEARS,
        ge=1,
        le=MAX_RETENTION_YEARS,
        description="years after closure a case's personal data is kept (docs/privacy.md)",
    )


class PolicyVersionOut(BaseModel):
    number: int
    effective_from: date
    closure_wait_days: int
    milestone_rates: dict[str, str]
    pba_cap_per_consumer: str
    retention_years: int
    adopted_at: datetime
    adopted_by: str
    previous_hash: str
    hash: str


class PolicyVersionsOut(BaseModel):
    known_at: datetime | None
    versions: list[PolicyVersionOut]


class AdoptedOut(PolicyVersionOut):
    refreshed_cases: int = Field(description="cases whose stored clock or ledger the adoption changed")


class PolicyChange(BaseModel):
    case_id: str
    before: dict[str, Any]
    after: dict[str, Any]


class PreviewOut(BaseModel):
    changes: list[PolicyChange]
    next_cursor: str | None


def apply_policy(ctx: AppContext, table: PolicyTable) -> None:
    """Hand a newly adopted table to what the request path reads it from (the lifespan
    registers this with `PolicyCache.on_change`)."""
    ctx.policy = table
    ctx.handler.use_policy(table)


def _cache(request: Request) -> policies.PolicyCache:
    cache = getattr(request.app.state, "policies", None)
    if cache is None:
        raise Problem(503, "database_unavailable", "the policy history is not loaded yet")
    return cache


def _version_body(body: PolicyRowIn) -> Any:
    return body.model_dump(mode="json")


@router.post(
    "/versions",
    status_code=201,
    response_model=AdoptedOut,
    response_class=JSONResponse,
    operation_id="adoptPolicyVersion",
)
async def adopt_policy_version(body: PolicyRowIn, request: Request, ctx: Ctx, who: Admin) -> JSONResponse:
    """Adopt a policy version: recorded, hash-chained, in force from `effective_from`.

    Role `admin`. Milestones already recorded keep their price; a changed price shows
    as an adjustment line in the ledger. The stored clock and ledger of the cases it
    changes are refreshed before the answer.
    """
    version = policies.parse_version(_version_body(body))
    adopted = await policies.adopt(ctx.pool, version, adopted_by=who.actor)
    _cache(request).adopted(adopted)
    refreshed = await refresh_changed(ctx.pool, adopted.before, version, adopted.after, today=today())
    listed = policies.listed([adopted.row], None)[0]
    return JSONResponse({**listed, "refreshed_cases": refreshed}, status_code=201)


@router.get(
    "/versions",
    response_model=PolicyVersionsOut,
    response_class=JSONResponse,
    operation_id="listPolicyVersions",
)
async def list_policy_versions(ctx: Ctx, who: Lister, known_at: KnownAt = None) -> JSONResponse:
    """Every policy version adopted by `known_at` (default now), who adopted it and when.

    Role `admin`, `auditor` or `case_system`.
    """
    async with ctx.pool.acquire() as conn:
        stored = await policies.stored_versions(conn)
    return JSONResponse({"known_at": known_at, "versions": policies.listed(stored, known_at)})


@router.post(
    "/preview",
    response_model=PreviewOut,
    response_class=JSONResponse,
    operation_id="previewPolicyVersion",
)
async def preview_policy_version(
    body: PolicyRowIn,
    request: Request,
    ctx: Ctx,
    who: Previewer,
    cursor: Annotated[str | None, Query(max_length=200, pattern=IDENTIFIER_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> JSONResponse:
    """Which cases' clock (status, eligible_on) or ledger amounts adopting the row would
    change, without adopting it: `{case_id, before, after}` by case_id, paged by `cursor`.

    Role `admin` or `auditor`.
    """
    version = policies.parse_version(_version_body(body))
    current = _cache(request).current()
    page = await preview(ctx.pool, current, version, today=today(), cursor=cursor, limit=limit)
    return JSONResponse({"changes": page.changes, "next_cursor": page.next_cursor})
