"""Appending to a case and reading streams and the global feed (contract section 5)."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from app import store
from app.api.deps import CaseId, Ctx, JSONResponse, KnownAt, require
from app.auth import Principal
from app.handler import Proposed
from app.problems import Problem

router = APIRouter(tags=["events"])
Writer = Annotated[Principal, Depends(require("case_system", "provider"))]
Reader = Annotated[Principal, Depends(require("case_system", "auditor"))]


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    event_id: UUID | None = Field(
        None, description="Client-chosen id; a retry with the same id and content is a no-op"
    )
    type: str = Field(min_length=1, max_length=64)
    data: dict[str, Any]
    metadata: dict[str, Any] | None = Field(
        None,
        description="source, correlation_id, causation_id, free keys; `actor` is set by the server",
    )


class AppendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    expected_version: int | None = Field(None, ge=0, description="0: the stream must not exist yet")
    events: list[EventIn] = Field(min_length=1, max_length=1000)


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


@router.post(
    "/cases/{case_id}/events",
    status_code=201,
    response_model=AppendOut,
    response_class=JSONResponse,
)
async def append_events(case_id: CaseId, body: AppendIn, ctx: Ctx, who: Writer) -> JSONResponse:
    proposed = [Proposed(e.type, e.data, e.event_id, e.metadata or {}) for e in body.events]
    appended = await ctx.handler.append(who, case_id, body.expected_version, proposed)
    return JSONResponse(appended.to_json(), status_code=201)


@router.get("/cases/{case_id}/events", response_model=StreamOut, response_class=JSONResponse)
async def read_case_events(
    case_id: CaseId,
    ctx: Ctx,
    who: Reader,
    from_version: Annotated[int, Query(ge=1, le=2**31 - 1)] = 1,
    known_at: KnownAt = None,
    limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
) -> JSONResponse:
    async with ctx.pool.acquire() as conn:
        events = await store.read_stream(conn, case_id, from_version=from_version, known_at=known_at)
        if not events and from_version == 1:
            raise Problem(404, "case_not_found", f"no case {case_id} (as known at that time)")
    page = events[:limit]
    more = len(events) > limit
    return JSONResponse(
        {
            "case_id": case_id,
            "events": [e.to_json() for e in page],
            "next_from_version": page[-1].version + 1 if more else None,
        }
    )


@router.get("/events", response_model=FeedOut, response_class=JSONResponse)
async def read_feed(
    ctx: Ctx,
    who: Reader,
    after: Annotated[int, Query(ge=0, le=2**63 - 1, description="the last position you have seen")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    wait: Annotated[float, Query(ge=0, le=30, description="long poll: seconds to wait for a new event")] = 0,
) -> JSONResponse:
    deadline = time.monotonic() + wait
    delay = 0.02
    while True:
        async with ctx.pool.acquire() as conn:
            events = await store.read_all(conn, after=after, limit=limit)
        if events or time.monotonic() >= deadline:
            break
        await asyncio.sleep(min(delay, max(deadline - time.monotonic(), 0)))
        delay = min(delay * 2, 0.25)
    return JSONResponse(
        {
            "events": [e.to_json() for e in events],
            "next_after": events[-1].position if events else after,
        }
    )
