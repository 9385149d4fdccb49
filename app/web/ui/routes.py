"""HTML pages for auditors: case search and the case timeline (sign-in: `app.ui.sign_in`).

The pages run no script, load nothing from elsewhere and are not in the OpenAPI document.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from pydantic import TypeAdapter, ValidationError
from starlette.responses import Response

from app.domain.policy import PolicyTable
from app.events.types import IDENTIFIER_PATTERN
from app.service.keys import Principal
from app.store import read_models as ledger_model
from app.store import stream_pages
from app.web.deps import CaseId, Ctx, today, utc_known_at
from app.web.history_page import MAX_PAGE, PageRequest, fold_case_page
from app.web.offload import off_loop
from app.web.ui.case_page import CaseQuery, CaseSoFar, header, render_case
from app.web.ui.findings_page import case_findings_link
from app.web.ui.html import esc, page
from app.web.ui.sign_in import UI_ROLES, message, redirect, signed_in, to_sign_in

router = APIRouter(prefix="/ui", include_in_schema=False)
_DATE, _TIMESTAMP = TypeAdapter(date), TypeAdapter(datetime)


async def _reader(request: Request, ctx: Ctx) -> Principal | Response:
    """The signed-in auditor, case system or admin; else the sign-in redirect or a 403 page."""
    who = await signed_in(request, ctx)
    if who is None:
        return to_sign_in(request)
    if who.role not in UI_ROLES:
        return message(who, "Not allowed", f"A {who.role} key cannot open the auditor pages.", 403)
    return who


def _find_form(error: str | None = None) -> str:
    alert = f'<p class="error" role="alert">{esc(error)}</p>' if error else ""
    return (
        '<section class="card"><h1>Find a case</h1>'
        + alert
        + '<form class="inline" method="get" action="/ui/cases"><label>case number'
        '<input type="text" name="case_id" required maxlength="64" autofocus></label>'
        '<button type="submit">Open timeline</button></form></section>'
    )


@router.get("")
async def root() -> Response:
    """`/ui` to `/ui/`, by a relative path (the framework's own slash redirect is off)."""
    return redirect("/ui/")


@router.get("/")
async def index(request: Request, ctx: Ctx) -> Response:
    who = await _reader(request, ctx)
    if isinstance(who, Response):
        return who
    return page("Find a case", header(who) + f"<main>{_find_form()}</main>")


@router.get("/cases")
async def find_case(request: Request, ctx: Ctx, case_id: str = "") -> Response:
    who = await _reader(request, ctx)
    if isinstance(who, Response):
        return who
    case_id = case_id.strip()
    if not re.match(IDENTIFIER_PATTERN, case_id):
        return page(
            "Find a case",
            header(who)
            + "<main>"
            + _find_form("A case number is 1 to 64 letters, digits, '.', '_' or '-'.")
            + "</main>",
            status=422,
        )
    return redirect(f"/ui/cases/{quote(case_id)}")


def _parse(adapter: TypeAdapter[Any], value: str | None, name: str) -> Any:
    if value is None or not value.strip():
        return None
    try:
        parsed = adapter.validate_python(value.strip())
        return utc_known_at(parsed) if adapter is not _DATE else parsed
    except (ValidationError, ValueError):
        raise ValueError(
            f"{name} {value!r} is not a valid {'date' if adapter is _DATE else 'timestamp'}"
        ) from None


def _page_number(value: str | None, name: str, default: int, most: int) -> int:
    if value is None or not value.strip():
        return default
    if not value.strip().isdigit() or not 1 <= int(value) <= most:
        raise ValueError(f"{name} must be a whole number from 1 to {most}")
    return int(value)


def _render(
    texts: list[str],
    key: bytes | None,
    q: CaseQuery,
    who: Principal,
    refused: list[dict[str, Any]],
    policy: PolicyTable,
) -> str:
    """Fold the case and render its page: one job in the heavy-work thread, so neither the
    parsed stream nor the fold ever comes back to the event loop, only the HTML."""
    wanted = PageRequest(q.case_id, q.from_version, q.limit, q.known_at, q.as_of)
    state, version, history = fold_case_page(texts, wanted, policy, key)
    return render_case(q, who, CaseSoFar(state, version, history, refused), policy)


@router.get("/cases/{case_id}")
async def case_page(
    request: Request,
    case_id: CaseId,
    ctx: Ctx,
    as_of: str | None = None,
    known_at: str | None = None,
    from_version: str | None = None,
    limit: str | None = None,
) -> Response:
    """The auditor timeline of one case; `as_of` and `known_at` as in GET /cases/{id}/history,
    its history paged by `from_version` and `limit` (at most MAX_PAGE events)."""
    who = await _reader(request, ctx)
    if isinstance(who, Response):
        return who
    try:
        day, known = _parse(_DATE, as_of, "as_of"), _parse(_TIMESTAMP, known_at, "known_at")
        first = _page_number(from_version, "from_version", 1, 2**31 - 1)
        size = _page_number(limit, "limit", MAX_PAGE, MAX_PAGE)
    except ValueError as exc:
        return message(who, "Invalid request", str(exc), 422)
    if known is not None and known.tzinfo is None:
        known = known.replace(tzinfo=UTC)
    async with ctx.pool.acquire() as conn:
        texts = await stream_pages.read_as_json(conn, case_id, known_at=known)
        refused = await ledger_model.refused_claims(conn, case_id=case_id) if texts else []
        findings_link = await case_findings_link(conn, case_id, today()) if texts else ""
        # The case's data key: the page prints its personal values opened (docs/privacy.md).
        key = await ctx.case_keys.for_read(conn, case_id) if texts else None
    if not texts:
        when = f" as known at {known.isoformat()}" if known else ""
        return message(who, "Case not found", f"No case {case_id}{when}.", 404)
    if known is not None:
        refused = [r for r in refused if datetime.fromisoformat(r["refused_at"]) <= known]
    query = CaseQuery(case_id, day, known, today(), first, size)
    # The fold and the render grow with the case: off the event loop, so other requests go on.
    html = await off_loop(_render, texts, key, query, who, refused, ctx.policy)
    return page(f"Case {case_id}", findings_link + html)
