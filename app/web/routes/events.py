"""Appending to a case and reading streams and the global feed (contract section 5)."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.events.types import IDENTIFIER
from app.service.append import Proposed
from app.service.keys import Principal
from app.store import streams as store
from app.web.deps import CaseId, Ctx, JSONResponse, KnownAt, require
from app.web.problems import Problem

router = APIRouter(tags=["events"])
writer = require("case_system", "provider")
Writer = Annotated[Principal, Depends(writer)]
Reader = Annotated[Principal, Depends(require("case_system", "auditor"))]


# One place for the envelope's bounds: the documented models and the fast path below.
MAX_EVENTS_PER_APPEND = 1000
EVENT_TYPE_MAX_LENGTH = 64


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    event_id: UUID | None = Field(
        None, description="Client-chosen id; a retry with the same id and content is a no-op"
    )
    type: str = Field(min_length=1, max_length=EVENT_TYPE_MAX_LENGTH)
    data: dict[str, Any]
    metadata: dict[str, Any] | None = Field(
        None,
        description="source, correlation_id, causation_id, free keys; `actor` is set by the server",
    )


class AppendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    expected_version: int | None = Field(None, ge=0, description="0: the stream must not exist yet")
    events: list[EventIn] = Field(min_length=1, max_length=MAX_EVENTS_PER_APPEND)


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


# --- appending: the body read once ---------------------------------------------------------
#
# FastAPI documents the body as `AppendIn` and, for anything out of the ordinary, still
# validates it (`append_events` below): its answers to a bad body are the contract's
# (422 `invalid_event` naming each field, 422 for malformed JSON, 400 for a body that is not
# text). The usual body, `application/json` that orjson reads into exactly what `AppendIn`
# would accept, skips FastAPI's JSON parse, the envelope's pydantic models and dependency
# solving: it becomes `Proposed` events at once, whose `data` the handler validates (once)
# against its event model. Whatever this fast path does not accept it leaves to FastAPI.

_UUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
_EVENT_KEYS = frozenset(("event_id", "type", "data", "metadata"))
_JSON = (b"application/json", b"application/json; charset=utf-8")
_CONTENT_TYPE = b"content-type"


def proposed_of(body: bytes) -> tuple[int | None, list[Proposed]] | None:
    """(expected_version, events) when `body` is JSON that `AppendIn` accepts as it stands
    (no coercion needed); None for anything else, which FastAPI then judges."""
    try:
        raw = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if type(raw) is not dict:
        return None
    events = raw.get("events")
    if type(events) is not list or not 1 <= len(events) <= MAX_EVENTS_PER_APPEND:
        return None
    expected = raw.get("expected_version")
    if len(raw) != 1 + ("expected_version" in raw) or (
        expected is not None and (type(expected) is not int or expected < 0)
    ):
        return None
    proposed = []
    for event in events:
        if type(event) is not dict or not event.keys() <= _EVENT_KEYS:
            return None
        event_type, data = event.get("type"), event.get("data")
        if (
            type(event_type) is not str
            or not 1 <= len(event_type) <= EVENT_TYPE_MAX_LENGTH
            or type(data) is not dict
        ):
            return None
        metadata = event.get("metadata")
        if metadata is not None and type(metadata) is not dict:
            return None
        event_id = event.get("event_id")
        if event_id is not None:
            if type(event_id) is not str or not _UUID.fullmatch(event_id):
                return None
            event_id = UUID(event_id)
        proposed.append(Proposed(event_type, data, event_id, metadata or {}))
    return expected, proposed


def _is_json(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        if name == _CONTENT_TYPE:
            return value in _JSON
    return False


Handler = Callable[[Request], Coroutine[Any, Any, Response]]


async def _append_fast(request: Request, case_id: str, body: bytes) -> Response | None:
    """The answer to a usual append, or None to leave the request to FastAPI."""
    parsed = proposed_of(body)
    if parsed is None:
        return None
    who = await writer(request)
    ctx = request.app.state.ctx
    appended = await ctx.handler.append(who, case_id, parsed[0], parsed[1])
    return JSONResponse(appended.to_json(), status_code=201)


def _fast_candidate(scope: Scope, overrides_from: Any) -> str | None:
    """The case id when the request may take the fast path (a valid id, a JSON body, no
    dependency overrides or telemetry spans to honour), else None."""
    if scope.get("fastapi.telemetry") is not None or (
        overrides_from is not None and getattr(overrides_from, "dependency_overrides", None)
    ):
        return None
    case_id = scope["path_params"].get("case_id")
    if isinstance(case_id, str) and IDENTIFIER.fullmatch(case_id) and _is_json(scope["headers"]):
        return case_id
    return None


class AppendRoute(APIRoute):
    """`POST /cases/{case_id}/events`: the usual body parsed once (see above).

    Served as the app's own route, the fast path is its ASGI app itself (no per-request
    `Request`/exit-stack wrapper: an exception goes to the app's handlers through the
    middleware, as a route's would); included through a router, it is the route handler.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.app = self._fast_app(self.app, self.dependency_overrides_provider)

    def get_route_handler(self) -> Handler:
        validated = super().get_route_handler()  # FastAPI's: the contract's answers to bad input

        async def handler(request: Request) -> Response:
            case_id = _fast_candidate(request.scope, self.dependency_overrides_provider)
            if case_id is not None:
                answer = await _append_fast(request, case_id, await request.body())
                if answer is not None:  # else FastAPI reads the body kept on the request
                    return answer
            return await validated(request)

        return handler

    @staticmethod
    def _fast_app(validated: ASGIApp, overrides_from: Any) -> ASGIApp:
        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            case_id = _fast_candidate(scope, overrides_from)
            if case_id is None:
                await validated(scope, receive, send)
                return
            messages, more = [], True
            while more:
                message = await receive()
                messages.append(message)
                if message["type"] != "http.request":
                    break
                more = message.get("more_body", False)
            if len(messages) == 1 and messages[0]["type"] == "http.request":
                body = messages[0].get("body", b"")
            else:
                body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
            answer = None
            if messages[-1]["type"] == "http.request":
                answer = await _append_fast(Request(scope, receive, send), case_id, body)
            if answer is not None:
                await answer(scope, receive, send)
                return
            pending = iter(messages)

            async def replay() -> Message:
                return next(pending, None) or await receive()

            await validated(scope, replay, send)

        return app


async def append_events(case_id: CaseId, body: AppendIn, ctx: Ctx, who: Writer) -> JSONResponse:
    proposed = [Proposed(e.type, e.data, e.event_id, e.metadata or {}) for e in body.events]
    appended = await ctx.handler.append(who, case_id, body.expected_version, proposed)
    return JSONResponse(appended.to_json(), status_code=201)


router.add_api_route(
    "/cases/{case_id}/events",
    append_events,
    methods=["POST"],
    status_code=201,
    response_model=AppendOut,
    response_class=JSONResponse,
    route_class_override=AppendRoute,
)


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
