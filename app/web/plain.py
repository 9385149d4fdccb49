"""Plain Starlette routes for the hot paths, validated by pydantic and documented by hand.

FastAPI's general request handler (dependency solving, parameter fields, response
models) costs more CPU than the work of a closure-clock read. A hot path is instead a
Starlette `Route` whose endpoint authenticates first (`deps.authorize`, once), then reads
its path and query parameters into a pydantic model through a `TypeAdapter` and answers
with orjson. A parameter that does not validate raises FastAPI's own
`RequestValidationError`, so its 422 problem is the one every other route gives.

`PlainOperation` also describes the route for the OpenAPI document (`openapi_doc`),
from the same pydantic models that validate it: what is documented is what is checked.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Scope

Model = TypeVar("Model", bound=BaseModel)
Endpoint = Callable[[Request], Awaitable[Response]]
_PATH_PARAMETER = re.compile(r"{(\w+)}")


def located(errors: Iterable[Any], where: Callable[[str], str]) -> list[dict[str, Any]]:
    """Pydantic's errors with FastAPI's location first (`path`, `query` or `body`)."""
    out = []
    for error in errors:
        loc = tuple(error["loc"])
        head = where(str(loc[0])) if loc else where("")
        out.append({**error, "loc": (head, *loc)})
    return out


def path_parameters(path: str) -> frozenset[str]:
    """The names of a route template's path parameters: `{case_id}` -> case_id."""
    return frozenset(_PATH_PARAMETER.findall(path))


class Parameters(Generic[Model]):
    """The path and query parameters of one plain route, read into `model`.

    As FastAPI reads them: a repeated query parameter counts by its last value, an
    unknown one is ignored, a path parameter wins over a query one of the same name.
    """

    def __init__(self, model: type[Model], path: str) -> None:
        self.model = model
        self.in_path = path_parameters(path)
        self._adapter = TypeAdapter(model)

    def read(self, request: Request) -> Model:
        path = request.path_params
        # most hot calls carry no query string: skip parsing an empty one
        raw = {**request.query_params, **path} if request.scope.get("query_string") else dict(path)
        try:
            return self._adapter.validate_python(raw)
        except ValidationError as exc:
            raise RequestValidationError(located(exc.errors(include_url=False), self.where)) from None

    def where(self, name: str) -> str:
        return "path" if name in self.in_path else "query"


@dataclass(frozen=True, slots=True)
class PlainOperation:
    """One plain route and what the OpenAPI document says of it."""

    method: str
    path: str
    endpoint: Endpoint
    operation_id: str
    tag: str
    response: type[BaseModel]
    parameters: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    status_code: int = 200

    @property
    def summary(self) -> str:
        """As FastAPI titles a route: `get_closure_clock` is "Get Closure Clock"."""
        return self.endpoint.__name__.replace("_", " ").title()

    @property
    def description(self) -> str:
        return inspect.cleandoc(self.endpoint.__doc__ or "")


class NamedRoute(Route):
    """A Starlette route that puts itself in the scope (`scope["route"]`) as FastAPI's own
    routes do, so the access log and the metrics label a request by its template."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is not Match.NONE:
            child_scope["route"] = self
        return match, child_scope


def add_plain_routes(app: FastAPI, operations: Iterable[PlainOperation]) -> None:
    """Each operation as a Starlette route of the app's own router (matched first, with
    no included router in between); out of FastAPI's schema, `openapi_doc` adds them."""
    for op in operations:
        route = NamedRoute(
            op.path, op.endpoint, methods=[op.method], name=op.operation_id, include_in_schema=False
        )
        app.router.routes.append(route)
