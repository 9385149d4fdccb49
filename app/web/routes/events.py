"""Appending to a case and reading streams and the global feed (contract section 5)."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from app.service.keys import Principal
from app.service.validate import Proposed
from app.store import stream_pages
from app.store import streams as store
from app.web.append_body import AppendIn, is_json_media, proposed_of, validated
from app.web.deps import CaseId, CaseIdField, Ctx, JSONResponse, KnownAt, allowing, authorize, require
from app.web.plain import Parameters, PlainOperation
from app.web.problems import Problem

__all__ = ["PLAIN_OPERATIONS", "AppendIn", "proposed_of", "router"]

router = APIRouter(tags=["events"])
# Which types each role may append is the service's rule (`app.service.validate.role_refusal`):
# an auditor key appends legal holds only.
WRITERS = allowing("case_system", "provider", "auditor")
READERS = allowing("case_system", "auditor")
Reader = Annotated[Principal, Depends(require("case_system", "auditor"))]
MAX_STREAM_PAGE = 1000
"""Most events one `GET /cases/{case_id}/events` page holds (as the feed's limit)."""


class AppendedEventOut(BaseModel):
    event_id: UUID
    version: int
    position: int
    type: str


class AppendOut(BaseModel):
    case_id: str
    version: int
    events: list[AppendedEventOut]
    idempotent_replay: bool


class StoredEventOut(BaseModel):
    event_id: UUID
    case_id: str
    version: int
    position: int
    type: str
    schema_version: int
    data: dict[str, Any]
    metadata: dict[str, Any]
    recorded_at: datetime
    hash: str


class StreamOut(BaseModel):
    case_id: str
    events: list[StoredEventOut]
    next_from_version: int | None


class FeedOut(BaseModel):
    events: list[StoredEventOut]
    next_after: int


async def append_events(request: Request) -> Response:
    """Append events to a case's stream, all or nothing (contract 5).

    `expected_version` (optional) is the version the client last saw; 0 means the case
    must not exist yet. A retry with the same `event_id`s and content answers the first
    append again (`idempotent_replay`). Role `case_system` (every type but the retention
    events), `provider` (`PBAMilestoneReached` of its own PBA), `auditor` (`LegalHoldPlaced`,
    `LegalHoldLifted` only) or `admin` (any); `CaseRecordsDestroyed` is appended only by
    `caseledger retention run` (403 for every key).
    """
    who = await authorize(request, WRITERS)
    case_id = APPEND_PARAMETERS.read(request).case_id
    body = await request.body()
    json_media = is_json_media(request.headers.get("content-type"))
    parsed = proposed_of(body) if json_media else None
    if parsed is None:
        model = validated(body, json_media)
        events = [Proposed(e.type, e.data, e.event_id, e.metadata or {}) for e in model.events]
        parsed = model.expected_version, events
    ctx = request.app.state.ctx
    appended = await ctx.handler.append(who, case_id, parsed[0], parsed[1])
    return JSONResponse(appended.to_json(), status_code=201)


class FeedParameters(BaseModel):
    after: int = Field(0, ge=0, le=2**63 - 1, description="the last position you have seen")
    limit: int = Field(100, ge=1, le=1000)
    wait: float = Field(0, ge=0, le=30, description="long poll: seconds to wait for a new event")


class AppendParameters(BaseModel):
    case_id: CaseIdField


APPEND_PARAMETERS = Parameters(AppendParameters, "/cases/{case_id}/events")
FEED_PARAMETERS = Parameters(FeedParameters, "/events")


async def read_feed(request: Request) -> Response:
    """Every case's events in commit order, after a position: the global feed (contract 5).

    Page with `next_after`; `wait` long-polls for a new event. Role `case_system` or `auditor`.
    """
    await authorize(request, READERS)
    q = FEED_PARAMETERS.read(request)
    ctx = request.app.state.ctx
    deadline = time.monotonic() + q.wait
    delay = 0.02
    while True:
        async with ctx.pool.acquire() as conn:
            # Personal values opened with each case's key: one key look-up per case per page.
            stored = await store.read_all(conn, after=q.after, limit=q.limit)
            events = await ctx.case_keys.opened(conn, stored)
        if events or time.monotonic() >= deadline:
            break
        await asyncio.sleep(min(delay, max(deadline - time.monotonic(), 0)))
        delay = min(delay * 2, 0.25)
    return JSONResponse(
        {
            "events": [e.to_json() for e in events],
            "next_after": events[-1].position if events else q.after,
        }
    )


PLAIN_OPERATIONS = (
    PlainOperation(
        "POST",
        "/cases/{case_id}/events",
        append_events,
        "appendEvents",
        "events",
        AppendOut,
        AppendParameters,
        AppendIn,
        status_code=201,
    ),
    PlainOperation("GET", "/events", read_feed, "readFeed", "events", FeedOut, FeedParameters),
)


@router.get(
    "/cases/{case_id}/events",
    response_model=StreamOut,
    response_class=JSONResponse,
    operation_id="readCaseEvents",
)
async def read_case_events(
    case_id: CaseId,
    ctx: Ctx,
    who: Reader,
    from_version: Annotated[int, Query(ge=1, le=2**31 - 1)] = 1,
    known_at: KnownAt = None,
    limit: Annotated[
        int, Query(ge=1, le=MAX_STREAM_PAGE, description=f"events per page, at most {MAX_STREAM_PAGE}")
    ] = MAX_STREAM_PAGE,
) -> JSONResponse:
    """A case's events in order from `from_version`, paged by `next_from_version` (null on
    the last page); at most `limit` events are read, the limit is in the query."""
    async with ctx.pool.acquire() as conn:
        events = await stream_pages.read_page(
            conn, case_id, from_version=from_version, limit=limit + 1, known_at=known_at
        )
        if not events and from_version == 1:
            raise Problem(404, "case_not_found", f"no case {case_id} (as known at that time)")
        page = await ctx.case_keys.opened(conn, events[:limit])
    more = len(events) > limit
    return JSONResponse(
        {
            "case_id": case_id,
            "events": [e.to_json() for e in page],
            "next_from_version": page[-1].version + 1 if more else None,
        }
    )
