"""Operations: `GET /metrics`, structured JSON logs and the request id.

`install(app, settings)` configures logging, gives the app its own metrics
registry and adds the request middleware (`app.web.middleware`: request id, metrics,
access log, body limit); `handler_hooks(app)` are the AppendHandler's counters.
The logs and the registry live in `app.observability`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Annotated, TypedDict

from fastapi import APIRouter, Depends, FastAPI, Request
from prometheus_client.exposition import choose_encoder
from starlette.responses import Response

from app.observability.logs import REQUEST_ID, configure_logging
from app.observability.metrics import Metrics
from app.service.keys import Principal
from app.settings import Settings
from app.store.lag import read_lag
from app.web.deps import Ctx, require
from app.web.middleware import RequestObservability

__all__ = [
    "Metrics",
    "configure_logging",
    "current_request_id",
    "handler_hooks",
    "install",
    "router",
]

router = APIRouter(tags=["operations"])
Auditor = Annotated[Principal, Depends(require("auditor"))]


class HandlerHooks(TypedDict):
    on_refusal: Callable[[str], None]
    on_conflict: Callable[[], None]
    on_appended: Callable[[Sequence[str]], None]


def install(app: FastAPI, settings: Settings) -> None:
    """JSON logs, the app's metrics registry and the request middleware (`app.add_middleware`)."""
    configure_logging(settings.log_level)
    metrics = Metrics()
    app.state.metrics = metrics
    app.add_middleware(RequestObservability, metrics=metrics, max_body_bytes=settings.max_body_bytes)


def handler_hooks(app: FastAPI) -> HandlerHooks:
    metrics: Metrics = app.state.metrics
    return {
        "on_refusal": metrics.refused,
        "on_conflict": metrics.lost_race,
        "on_appended": metrics.appended_events,
    }


def current_request_id() -> str | None:
    """The id of the request being served (None outside a request)."""
    return REQUEST_ID.get()


@router.get(
    "/metrics",
    response_class=Response,
    operation_id="getMetrics",
    summary="Prometheus metrics",
    responses={
        200: {
            "content": {"text/plain": {"schema": {"type": "string"}}},
            "description": "Prometheus text exposition format",
        }
    },
)
async def metrics(request: Request, ctx: Ctx, who: Auditor) -> Response:
    """Request latency by route template, method and status class; appends by event type;
    version conflicts; rule refusals by rule; problem answers by code; feed lag and
    projection lag (computed at scrape time).

    Needs an API key (`Authorization: Bearer <key>`) with role `auditor` or `admin`, like
    every endpoint but `/healthz` and `/readyz`. Send `Accept: application/openmetrics-text`
    for OpenMetrics.
    """
    registry: Metrics = request.app.state.metrics
    await registry.refresh_lag(partial(read_lag, ctx.pool))
    encode, content_type = choose_encoder(request.headers.get("accept", ""))
    return Response(encode(registry.registry), media_type=content_type)
