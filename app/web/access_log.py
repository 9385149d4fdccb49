"""Who read which case: the access-record middleware and `GET /access-log`.

Every request that returns a case's data (a route with a `case_id` in its path, and
the pages that list cases: the feed, the worklist, a provider's ledger, an event's
proof) leaves an `AccessRecord`: the key, role and provider id, the time, the client
address, the case or cases, the endpoint (method and route template), the request id
and the status. A refused read (401, 403, 404) is recorded too: who tried matters.
The middleware only queues the record (`app.service.access_recorder`): who the caller
is comes from the route's own authentication (the request state) when it ran; else the
key or UI session is resolved, and a page's case ids read from its body when the route
did not name them (`answered_cases`), when the batch is written, off the request path.

Registered by `install(app)` (the middleware, added the documented way, and the
router); the writer runs inside the lifespan through `recording(app, pool)`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query
from pydantic import AfterValidator, BaseModel
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.service.access_recorder import AccessRecorder, Pending
from app.service.access_recorder import recording as run_recorder
from app.service.keys import Principal
from app.store import access_log as store
from app.store.pool import Pool
from app.web.deps import PRINCIPAL_STATE, Ctx, JSONResponse, bearer_key, require, utc_known_at
from app.web.middleware import path_id, route_of
from app.web.problems import Problem

# Pages whose case ids are in the answer, not the path: named by the route
# (`answered_cases`), else read from the body it sent.
LISTING_ROUTES = frozenset(
    {"/events", "/closure-clock/worklist", "/providers/{provider_id}/ledger", "/events/{event_id}/proof"}
)
MAX_LISTING_BYTES = 8 * 1024 * 1024
SESSION_COOKIE = "caseledger_session"  # app.web.ui.sessions
NAMED = "access_case_ids"  # the request state's key for the cases a listing named
MAX_PAGE = 500
FROM = "records at or after this time (UTC unless it says otherwise)"
TO = "records before this time (UTC unless it says otherwise)"


class AccessRecorderMiddleware:
    """Queues an access record for each request that reads a case (pure ASGI)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        seen = _Seen()

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen.start(message["status"], scope)
            elif seen.body is not None and len(seen.body) < MAX_LISTING_BYTES:
                seen.body += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            recorder = getattr(scope["app"].state, "access_recorder", None)
            if recorder is not None:
                _note(recorder, scope, seen)


def answered_cases(request: HTTPConnection, case_ids: Iterable[str]) -> None:
    """A listing route names the cases its answer holds (distinct, in order), so the access
    record need not read them back from the body it sent (the worklist does)."""
    request.scope.setdefault("state", {})[NAMED] = tuple(dict.fromkeys(case_ids))


class _Seen:
    """The status, and the body of a listing whose cases are to be read from it."""

    __slots__ = ("body", "status")

    def __init__(self) -> None:
        self.status, self.body = 500, None

    def start(self, status: int, scope: Scope) -> None:
        self.status = status
        if status < 400 and route_of(scope) in LISTING_ROUTES and NAMED not in scope.get("state", ()):
            self.body = bytearray()


def _note(recorder: AccessRecorder, scope: Scope, seen: _Seen) -> None:
    """Queue the request's record; no I/O, no hashing (a key the route did not resolve is
    looked up, and a listing's body read, in the batch)."""
    route = route_of(scope)
    state = scope.get("state") or {}
    case_ids = state.get(NAMED)
    if case_ids is None:
        case_id = path_id(scope, "case_id")
        if case_id is not None:
            case_ids = (case_id,)
        elif route not in LISTING_ROUTES:
            return
    client = scope.get("client")
    pending = Pending(
        at=recorder.now(),
        client=client[0] if client else None,
        case_ids=case_ids,
        endpoint=f"{scope['method']} {route}",
        request_id=state.get("request_id"),
        status=seen.status,
        body=bytes(seen.body) if case_ids is None and seen.body is not None else None,
    )
    principal = state.get(PRINCIPAL_STATE)
    if principal is not None:  # the route authenticated it: no key to read and hash again
        pending.holder = (principal.key_id, principal.role, principal.provider_id)
    else:
        connection = HTTPConnection(scope)
        pending.key = bearer_key(connection)  # type: ignore[arg-type]  (reads only the scope's headers)
        pending.session_id = _session_id(connection)
    recorder.note(pending)


def _session_id(connection: HTTPConnection) -> str | None:
    if not connection.scope["path"].startswith("/ui"):  # the pages' cookie is scoped to /ui
        return None
    return connection.cookies.get(SESSION_COOKIE) or None


router = APIRouter(tags=["audit"])


class AccessRecordOut(BaseModel):
    position: int
    at: datetime
    key_id: str | None
    role: str | None
    provider_id: str | None
    client: str | None
    case_ids: list[str]
    endpoint: str
    request_id: str | None
    status: int
    hash: str


class AccessLogOut(BaseModel):
    records: list[AccessRecordOut]
    next_cursor: str | None


@router.get(
    "/access-log", response_model=AccessLogOut, response_class=JSONResponse, operation_id="listAccessLog"
)
async def list_access_log(
    ctx: Ctx,
    who: Annotated[Principal, Depends(require("auditor"))],
    case_id: Annotated[str | None, Query(max_length=128, description="records naming this case")] = None,
    actor: Annotated[str | None, Query(max_length=128, description="a key id, role or provider id")] = None,
    from_: Annotated[
        datetime | None, AfterValidator(utc_known_at), Query(alias="from", description=FROM)
    ] = None,
    to: Annotated[datetime | None, AfterValidator(utc_known_at), Query(description=TO)] = None,
    cursor: Annotated[str | None, Query(max_length=20, description="next_cursor of the last page")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> Any:
    """Who read which case, oldest first: answers "who viewed this person's case"."""
    if cursor is not None and not cursor.isdigit():
        raise Problem(422, "invalid_request", "cursor is not one this service gave out")
    after = int(cursor) if cursor else 0
    async with ctx.pool.acquire() as conn:
        rows = await store.page(
            conn,
            after=after,
            case_id=case_id,
            actor=actor,
            since=from_,
            until=to,
            limit=limit,
        )
    records = [dict(row) for row in rows]
    for record in records:
        record["case_ids"] = list(record["case_ids"])
    more = len(records) == limit
    return JSONResponse({"records": records, "next_cursor": str(records[-1]["position"]) if more else None})


def install(app: FastAPI) -> None:
    """The middleware and `GET /access-log`; one line in `create_app`."""
    app.add_middleware(AccessRecorderMiddleware)
    app.include_router(router)


@asynccontextmanager
async def recording(app: FastAPI, pool: Pool) -> AsyncIterator[None]:
    """The lifespan's part: the batch writer runs while the app serves; what is queued at
    a clean shutdown is written before the pool closes."""
    recorder = AccessRecorder(pool, now=lambda: datetime.now(UTC))
    app.state.access_recorder = recorder
    async with run_recorder(recorder):
        yield
    app.state.access_recorder = None
