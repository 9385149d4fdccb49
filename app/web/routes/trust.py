"""Signed checkpoints, proofs and the offline case bundle (auditor and admin).

The answers are evidence for someone who holds a checkpoint from elsewhere: a proof
verifies against their copy, not against anything this service says. Proofs read the
recorded leaf hashes once and hash them in a worker thread (`app.service.tree_proofs`).
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from starlette.responses import Response

from app.service import case_bundle, tree_proofs
from app.service.keys import Principal
from app.store import merkle as trust_store
from app.web.deps import CaseId, Ctx, JSONResponse, require
from app.web.problems import Problem

router = APIRouter(tags=["trust"])
Auditor = Annotated[Principal, Depends(require("auditor"))]
BUNDLE_MEDIA_TYPE = "application/json"


class CheckpointOut(BaseModel):
    tree_size: int
    root_hash: str = Field(description="base64 of the RFC 9162 root (MTH)")
    last_position: int = Field(description="feed position of the tree's last event")
    time: datetime
    note: str = Field(description="the C2SP signed note, verbatim: keep it, check it with the public key")


class InclusionOut(BaseModel):
    event_id: UUID
    case_id: str
    version: int
    leaf_index: int
    tree_size: int
    inclusion_proof: list[str] = Field(description="RFC 9162 PATH, base64 hashes, leaf's sibling first")


class BundledPolicy(BaseModel):
    policy_id: str
    versions: list[dict[str, object]] = Field(
        description=(
            "versions the events were judged by, by adoption number: {number, record, adopted_at, "
            "adopted_by, leaf_index, inclusion_proof}; adopted_at and adopted_by are absent for a "
            "table without adoption history (format caseledger.case-bundle.v2; v1 files carry neither)"
        )
    )


class CaseBundleOut(BaseModel):
    """One file an auditor takes away: `caseledger verify-bundle FILE --public-key FILE.pub`."""

    format: str = Field(description="the bundle format's name and version")
    case_id: str
    checkpoint: str = Field(description="the C2SP signed note every proof in the file verifies against")
    events: list[dict[str, object]] = Field(
        description="each stored event (every envelope field, its hash), its leaf_index and inclusion_proof"
    )
    policy: BundledPolicy


class ConsistencyOut(BaseModel):
    from_: int = Field(alias="from")
    to: int
    consistency_proof: list[str] = Field(description="RFC 9162 PROOF, base64 hashes")


@router.get(
    "/checkpoints/latest",
    response_model=CheckpointOut,
    response_class=JSONResponse,
    operation_id="getLatestCheckpoint",
)
async def latest_checkpoint(ctx: Ctx, who: Auditor) -> JSONResponse:
    """The newest checkpoint the service signed (copy it: the copies outside are what count)."""
    async with ctx.pool.acquire() as conn:
        checkpoint = await trust_store.latest_checkpoint(conn)
    if checkpoint is None:
        raise Problem(404, "not_found", "no checkpoint has been signed yet")
    return JSONResponse(
        {
            "tree_size": checkpoint.tree_size,
            "root_hash": base64.b64encode(checkpoint.root_hash).decode(),
            "last_position": checkpoint.last_position,
            "time": checkpoint.signed_at,
            "note": checkpoint.note,
        }
    )


@router.get(
    "/events/{event_id}/proof",
    response_model=InclusionOut,
    response_class=JSONResponse,
    operation_id="getEventInclusionProof",
)
async def event_proof(
    event_id: UUID,
    ctx: Ctx,
    who: Auditor,
    tree_size: Annotated[
        int | None, Query(ge=1, description="a checkpoint's size (default: the newest)")
    ] = None,
) -> JSONResponse:
    """The event's inclusion proof in the tree of `tree_size` leaves."""
    return JSONResponse(await tree_proofs.event_inclusion(ctx.pool, event_id, tree_size))


@router.get(
    "/checkpoints/consistency",
    response_model=ConsistencyOut,
    response_class=JSONResponse,
    operation_id="getCheckpointConsistency",
)
async def checkpoint_consistency(
    ctx: Ctx,
    who: Auditor,
    from_size: Annotated[int, Query(alias="from", ge=1, description="the older tree size")],
    to_size: Annotated[int, Query(alias="to", ge=1, description="the newer tree size")],
) -> JSONResponse:
    """Proof that the tree of `to` leaves extends the tree of `from` leaves."""
    return JSONResponse(await tree_proofs.consistency(ctx.pool, from_size, to_size))


@router.get(
    "/cases/{case_id}/export",
    response_class=Response,
    responses={
        200: {
            "content": {BUNDLE_MEDIA_TYPE: {"schema": CaseBundleOut.model_json_schema()}},
            "description": "the case bundle",
        }
    },
    operation_id="exportCaseBundle",
)
async def export_case(case_id: CaseId, ctx: Ctx, who: Auditor) -> Response:
    """One file with the case's events, policy, inclusion proofs and the signed checkpoint.

    Check it offline: `caseledger verify-bundle FILE --public-key FILE.pub`. Events recorded
    after the newest checkpoint are not in it (header `Caseledger-Uncovered-Events`).
    """
    policy_id = ctx.settings.policy_id()
    exported = await case_bundle.export_case(ctx.pool, case_id, ctx.policy, policy_id, ctx.case_keys)
    headers = {
        "Content-Disposition": f'attachment; filename="{case_id}.bundle.json"',
        "Caseledger-Tree-Size": str(exported.tree_size),
        "Caseledger-Uncovered-Events": str(exported.uncovered),
    }
    return Response(exported.bundle, media_type=BUNDLE_MEDIA_TYPE, headers=headers)
