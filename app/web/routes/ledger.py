"""The payment ledger per case and per provider (contract 4.7)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from app.events.types import IDENTIFIER_PATTERN
from app.service.keys import Principal
from app.store import read_models as ledger_model
from app.web.deps import CaseId, Ctx, JSONResponse, ProviderId, require
from app.web.problems import Problem
from app.web.schemas import CaseLedgerOut, ProviderLedgerOut

router = APIRouter(tags=["payment ledger"])
Reader = Annotated[Principal, Depends(require("case_system", "auditor", "provider"))]
MONEY = ("earned", "authorized", "paid", "outstanding")
_IDENTIFIER = re.compile(IDENTIFIER_PATTERN)


def _totals(pbas: list[dict[str, Any]]) -> dict[str, str]:
    return {k: f"{sum((Decimal(p[k]) for p in pbas), Decimal('0')):.2f}" for k in MONEY}


def _decode_cursor(cursor: str) -> tuple[str, str]:
    """A provider-ledger cursor is `case_id~pba_id`; anything else was not given out here
    (silently starting from the first page again would walk a client round in circles)."""
    case_id, sep, pba_id = cursor.partition("~")
    if not sep or not _IDENTIFIER.match(case_id) or not _IDENTIFIER.match(pba_id):
        raise Problem(422, "invalid_request", "cursor is not one this service gave out")
    return case_id, pba_id


@router.get(
    "/cases/{case_id}/ledger",
    response_model=CaseLedgerOut,
    response_class=JSONResponse,
    operation_id="getCaseLedger",
)
async def case_ledger(case_id: CaseId, ctx: Ctx, who: Reader) -> JSONResponse:
    """Every PBA of the case with its milestones, amounts, cap left, anomalies and refused claims.

    A provider key sees only its own PBAs; a case with none of them is 404 to it.
    """
    provider = who.provider_id if who.role == "provider" else None
    async with ctx.pool.acquire() as conn:
        opened = await ledger_model.case_opened(conn, case_id)
        pbas = await ledger_model.case_pbas(conn, case_id, provider_id=provider)
        refused = await ledger_model.refused_claims(conn, case_id=case_id, provider_id=provider)
    if not opened or (provider and not pbas and not refused):
        raise Problem(404, "case_not_found", f"no case {case_id} with a ledger visible to this key")
    return JSONResponse(
        {"case_id": case_id, "pbas": pbas, "totals": _totals(pbas), "refused_claims": refused}
    )


@router.get(
    "/providers/{provider_id}/ledger",
    response_model=ProviderLedgerOut,
    response_class=JSONResponse,
    operation_id="getProviderLedger",
)
async def provider_ledger(
    provider_id: ProviderId,
    ctx: Ctx,
    who: Reader,
    cursor: Annotated[str | None, Query(max_length=200, description="from next_cursor")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> JSONResponse:
    """A provider's PBAs across cases (paged by case and PBA), its totals and refused claims."""
    if who.role == "provider" and who.provider_id != provider_id:
        raise Problem(403, "forbidden", "a provider key reads only its own ledger")
    after = _decode_cursor(cursor) if cursor is not None else None
    async with ctx.pool.acquire() as conn:
        rows = await ledger_model.provider_page(conn, provider_id, after=after, limit=limit + 1)
        totals = await ledger_model.provider_totals(conn, provider_id)
        refused = await ledger_model.refused_claims(conn, provider_id=provider_id)
    page = rows[:limit]
    next_cursor = f"{page[-1]['case_id']}~{page[-1]['pba_id']}" if len(rows) > limit else None
    return JSONResponse(
        {
            "provider_id": provider_id,
            "totals": totals,
            "pbas": page,
            "next_cursor": next_cursor,
            "refused_claims": refused,
        }
    )
