"""Dependencies shared by the routes: the context, the caller and JSON responses."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import UTC, date, datetime
from typing import Annotated, Any

import orjson
from fastapi import Depends, Path, Query, Request
from pydantic import AfterValidator, Field
from starlette.responses import JSONResponse as StarletteJSONResponse

from app.events.types import IDENTIFIER_PATTERN
from app.service.keys import Principal, Role
from app.web.context import AppContext
from app.web.problems import Problem


class JSONResponse(StarletteJSONResponse):
    """orjson-encoded JSON: the read models are hot paths. (A JSONResponse subclass, so
    FastAPI documents each route's response model in the OpenAPI document.)"""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, default=_default)


def _default(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


async def get_context(request: Request) -> AppContext:
    """Async on purpose: FastAPI runs a plain `def` dependency in a thread pool."""
    ctx: AppContext = request.app.state.ctx
    return ctx


Ctx = Annotated[AppContext, Depends(get_context)]
CaseId = Annotated[str, Path(pattern=IDENTIFIER_PATTERN, description="The case system's case number")]
ProviderId = Annotated[str, Path(pattern=IDENTIFIER_PATTERN)]


_AUTHORIZATION = b"authorization"


PRINCIPAL_STATE = "principal"  # the request state's key for the caller, once known


def bearer_key(request: Request) -> str | None:
    """The key of `Authorization: Bearer <key>`, or None. Only this header: the UI's
    session cookie (`app.web.ui.sessions`, `Path=/ui`) is never an API credential."""
    for name, value in request.scope["headers"]:
        if name == _AUTHORIZATION:
            scheme, _, key = value.decode("latin-1").partition(" ")
            if scheme.lower() != "bearer" or not key.strip():
                return None
            return key.strip()
    return None


async def current_principal(request: Request, ctx: Ctx) -> Principal:
    """The caller, from `Authorization: Bearer <key>`; 401 without a live key."""
    key = bearer_key(request)
    if key is None:
        raise Problem(401, "unauthorized", "send an API key as 'Authorization: Bearer <key>'")
    principal = await ctx.keys.principal(ctx.pool, key)
    if principal is None:
        raise Problem(401, "unauthorized", "the API key is unknown or revoked")
    # The access record names who this is without reading and hashing the key again.
    request.scope.setdefault("state", {})[PRINCIPAL_STATE] = principal
    return principal


def require(*roles: Role) -> Callable[[Request], Coroutine[Any, Any, Principal]]:
    """A dependency that lets in only `roles` (admin always).

    One flat async dependency on the request (no nested `Depends`): FastAPI solves it
    with no sub-dependencies and no thread-pool hop; a route handler may also await it
    directly.
    """
    allowed = allowing(*roles)

    async def check(request: Request) -> Principal:
        return await authorize(request, allowed)

    return check


async def authorize(request: Request, allowed: frozenset[Role]) -> Principal:
    """The caller when its role is one of `allowed`; else 401 or 403. A plain route calls
    this first, before it reads a parameter, as FastAPI solves a route's dependencies."""
    principal = await current_principal(request, request.app.state.ctx)
    if principal.role not in allowed:
        raise Problem(403, "forbidden", f"the {principal.role} role may not do this")
    return principal


def allowing(*roles: Role) -> frozenset[Role]:
    """The roles a route lets in: `roles` and admin, always."""
    return frozenset({*roles, "admin"})


def utc_known_at(value: datetime | None) -> datetime | None:
    """A recorded-at bound as UTC; a naive time is taken as UTC; years 1-9999 only."""
    if value is None:
        return None
    try:
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    except OverflowError:
        raise ValueError("known_at must lie within years 1-9999 in UTC") from None


KNOWN_AT_DESCRIPTION = "only events recorded by then (a timestamp; UTC unless it says otherwise)"
KnownAt = Annotated[datetime | None, AfterValidator(utc_known_at), Query(description=KNOWN_AT_DESCRIPTION)]
KnownAtField = Annotated[
    datetime | None, AfterValidator(utc_known_at), Field(description=KNOWN_AT_DESCRIPTION)
]
"""`KnownAt` for the plain routes' pydantic parameter models."""
CaseIdField = Annotated[str, Field(pattern=IDENTIFIER_PATTERN, description="The case system's case number")]


def today() -> date:
    return datetime.now(UTC).date()
