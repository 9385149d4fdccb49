"""Dependencies shared by the routes: the context, the caller and JSON responses."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any, get_type_hints

import orjson
from fastapi import Depends, Path, Query, Request
from fastapi._compat import field_annotation_is_sequence
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import AfterValidator
from starlette.responses import JSONResponse as StarletteJSONResponse
from starlette.responses import Response

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


KEY_COOKIE = "caseledger_key"
"""The UI's HttpOnly sign-in cookie: read only for GET/HEAD, so no write can ride on it (CSRF)."""


_AUTHORIZATION = b"authorization"
_COOKIE_METHODS = frozenset({"GET", "HEAD"})


async def current_principal(request: Request, ctx: Ctx) -> Principal:
    """The caller, from `Authorization: Bearer <key>` (or, for GET/HEAD, the UI's cookie)."""
    header = ""
    for name, value in request.scope["headers"]:
        if name == _AUTHORIZATION:
            header = value.decode("latin-1")
            break
    if not header and request.method in _COOKIE_METHODS and request.cookies.get(KEY_COOKIE):
        header = f"Bearer {request.cookies[KEY_COOKIE]}"
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Problem(401, "unauthorized", "send an API key as 'Authorization: Bearer <key>'")
    principal = await ctx.keys.principal(ctx.pool, key.strip())
    if principal is None:
        raise Problem(401, "unauthorized", "the API key is unknown or revoked")
    return principal


def require(*roles: Role) -> Callable[[Request], Coroutine[Any, Any, Principal]]:
    """A dependency that lets in only `roles` (admin always).

    One flat async dependency on the request (no nested `Depends`): FastAPI solves it
    with no sub-dependencies and no thread-pool hop; a route handler may also await it
    directly.
    """
    allowed = frozenset({*roles, "admin"})

    async def check(request: Request) -> Principal:
        principal = await current_principal(request, request.app.state.ctx)
        if principal.role not in allowed:
            raise Problem(403, "forbidden", f"the {principal.role} role may not do this")
        return principal

    return check


def utc_known_at(value: datetime | None) -> datetime | None:
    """A recorded-at bound as UTC; a naive time is taken as UTC; years 1-9999 only."""
    if value is None:
        return None
    try:
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    except OverflowError:
        raise ValueError("known_at must lie within years 1-9999 in UTC") from None


KnownAt = Annotated[
    datetime | None,
    AfterValidator(utc_known_at),
    Query(description="only events recorded by then (a timestamp; UTC unless it says otherwise)"),
]


def today() -> date:
    return datetime.now(UTC).date()


# --- a leaner request handler for the plain routes ------------------------------------------
#
# FastAPI solves every route's dependencies and parameters through one general-purpose
# function (dependency caches, overrides, generators, sequences, models, aliases, ...); for
# a closure-clock read that is about a quarter of the worker's CPU. `PlainRoute` serves a
# route whose signature is plain (async dependencies on the request only, scalar path and
# query parameters, no body, a Response returned) by calling the dependencies and
# validating each parameter directly. Anything else - a parameter that does not validate,
# dependency overrides, telemetry spans, a signature it does not know - goes to FastAPI's
# own handler, so every answer (422s included) is FastAPI's.

_IMMUTABLE = (type(None), bool, int, float, str, bytes)


@dataclass(frozen=True, slots=True)
class _Param:
    name: str
    key: str
    in_path: bool
    loc: tuple[str, str]
    field: Any
    required: bool
    default: Any


def _plain_params(dependant: Dependant) -> list[_Param] | None:
    """The route's path and query parameters when each is a plain scalar one, else None."""
    try:
        from fastapi.dependencies.utils import _get_param_aliases, _get_param_model, _is_json_field
    except ImportError:  # pragma: no cover - another FastAPI
        return None
    out = []
    for in_path, fields in ((True, dependant.path_params), (False, dependant.query_params)):
        for field in fields:
            info = field.field_info
            if (
                _get_param_model(field) is not None
                or _is_json_field(field)
                or field_annotation_is_sequence(info.annotation)
                or info.validate_default
            ):
                return None
            aliases = _get_param_aliases(field)
            default = None if info.is_required() else field.default
            if len(aliases) != 1 or not isinstance(default, _IMMUTABLE):
                return None
            key = aliases[0][1]
            loc = ("path" if in_path else "query", key)
            out.append(_Param(field.name, key, in_path, loc, field, info.is_required(), default))
    return out


def _plain_dependencies(dependant: Dependant) -> list[tuple[str | None, Any]] | None:
    """(name, call) of each dependency when each is an async function of the request alone."""
    out = []
    for sub in dependant.dependencies:
        call = sub.call
        if (
            not inspect.iscoroutinefunction(call)
            or sub.dependencies
            or sub.path_params
            or sub.query_params
            or sub.header_params
            or sub.cookie_params
            or sub.body_params
            or sub.websocket_param_name
            or sub.http_connection_param_name
            or sub.response_param_name
            or sub.background_tasks_param_name
            or sub.security_scopes_param_name
            or sub.concurrency is not None
            or not sub.use_cache
            or sub.request_param_name is None
            or len(inspect.signature(call).parameters) != 1
        ):
            return None
        out.append((sub.name, call))
    return out


def _returns_response(call: Any) -> bool:
    try:
        returned = get_type_hints(call).get("return")
    except Exception:
        return False
    return isinstance(returned, type) and issubclass(returned, Response)


class PlainRoute(APIRoute):
    """An APIRoute whose plain signature is served without FastAPI's general solver."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        general = super().get_route_handler()
        dependant = self.dependant
        params = _plain_params(dependant)
        dependencies = _plain_dependencies(dependant)
        if (
            params is None
            or dependencies is None
            or dependant.body_params
            or dependant.header_params
            or dependant.cookie_params
            or dependant.websocket_param_name
            or dependant.http_connection_param_name
            or dependant.response_param_name
            or dependant.background_tasks_param_name
            or dependant.security_scopes_param_name
            or not inspect.iscoroutinefunction(dependant.call)
            or not _returns_response(dependant.call)
        ):
            return general
        endpoint = dependant.call
        request_name = dependant.request_param_name
        overrides_from = self.dependency_overrides_provider
        has_query = any(not p.in_path for p in params)

        async def handler(request: Request) -> Response:
            if request.scope.get("fastapi.telemetry") is not None or (
                overrides_from is not None and getattr(overrides_from, "dependency_overrides", None)
            ):
                return await general(request)
            values: dict[str, Any] = {}
            solved: dict[Any, Any] = {}
            for name, call in dependencies:
                value = solved.get(call, _UNSOLVED)
                if value is _UNSOLVED:
                    value = solved[call] = await call(request)
                if name is not None:
                    values[name] = value
            path_params = request.scope.get("path_params") or {}
            query = request.query_params if has_query else None
            for p in params:
                raw = path_params.get(p.key) if p.in_path else query.get(p.key)  # type: ignore[union-attr]
                if raw is None:
                    if p.required:
                        return await general(request)
                    values[p.name] = p.default
                    continue
                value, errors = p.field.validate(raw, values, loc=p.loc)
                if errors:
                    return await general(request)  # FastAPI's 422, exactly
                values[p.name] = value
            if request_name is not None:
                values[request_name] = request
            response = await endpoint(**values)
            assert isinstance(response, Response)
            return response

        return handler


_UNSOLVED = object()
