"""The auditor's findings page, `/ui/findings`: every finding, filterable, each linked to its case.

A plain GET form (rule, from, to, provider, case) over the same list as `GET /findings`;
no script, like the other auditor pages.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote, urlencode

import asyncpg
from fastapi import APIRouter, Request
from pydantic import TypeAdapter, ValidationError
from starlette.responses import Response

from app.service import findings as desk
from app.store.findings import FindingFilter
from app.web.deps import Ctx, today
from app.web.ui.case_page import header
from app.web.ui.html import esc, page
from app.web.ui.sign_in import UI_ROLES, message, signed_in, to_sign_in

router = APIRouter(prefix="/ui", include_in_schema=False)
_DATE = TypeAdapter(date)
FIELDS = ("rule", "from", "to", "provider_id", "case_id")
SHOWN = 1000


async def case_findings_link(conn: asyncpg.Connection, case_id: str, on: date) -> str:
    """The case page's link to the case's findings: empty when the case has none."""
    rows = await desk.all_findings(conn, FindingFilter(today=on, case_id=case_id))
    if not rows:
        return ""
    href = f"/ui/findings?{urlencode({'case_id': case_id})}"
    return f'<p class="findings-link"><a href="{esc(href)}">{len(rows)} findings for this case</a></p>'


def _day(value: str | None) -> date | None:
    return _DATE.validate_python(value) if value else None


def _filter(q: dict[str, str]) -> FindingFilter:
    """The form's filter; raises ValidationError on a date that is not one."""
    days = (_day(q.get("from")), _day(q.get("to")))
    return FindingFilter(q.get("rule"), *days, q.get("provider_id"), today(), case_id=q.get("case_id"))


def _form(q: dict[str, str]) -> str:
    inputs = "".join(
        f'<label>{name}<input type="{"date" if name in ("from", "to") else "text"}" name="{name}"'
        f' value="{esc(q.get(name, ""))}" maxlength="64"></label>'
        for name in FIELDS
    )
    button = '<button type="submit">Filter</button>'
    return f'<form class="inline" method="get" action="/ui/findings">{inputs}{button}</form>'


def _row(r: dict[str, Any]) -> str:
    case = quote(r["case_id"], safe="")
    events = " ".join(esc(e) for e in r["event_ids"])
    return (
        f'<tr data-rule="{esc(r["rule"])}"><td>{esc(r["on_day"] or "")}</td>'
        f'<td><a href="/ui/cases/{case}">{esc(r["case_id"])}</a></td><td><code>{esc(r["rule"])}</code></td>'
        f"<td>{esc(r['detail'])}</td><td>{events}</td><td>{esc(r['provider_id'] or '')}</td>"
        f'<td>{esc(r["source"])}</td><td><a href="{esc(r["history"])}">history</a></td></tr>'
    )


def render(q: dict[str, str], rows: list[dict[str, Any]]) -> str:
    head = "".join(
        f"<th>{h}</th>" for h in ("date", "case", "rule", "finding", "events", "provider", "source", "")
    )
    body = "".join(_row(r) for r in rows[:SHOWN]) or '<tr><td colspan="8">No findings.</td></tr>'
    more = f"<p>Showing the first {SHOWN} of {len(rows)}.</p>" if len(rows) > SHOWN else ""
    return (
        f'<section class="card"><h1>Findings</h1>{_form(q)}<p>{len(rows)} findings</p>{more}'
        f'<table class="findings"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></section>'
    )


@router.get("/findings")
async def findings_page(request: Request, ctx: Ctx) -> Response:
    who = await signed_in(request, ctx)
    if who is None:
        return to_sign_in(request)
    if who.role not in UI_ROLES:
        return message(who, "Not allowed", f"A {who.role} key cannot open the auditor pages.", 403)
    q = {k: v for k in FIELDS if (v := request.query_params.get(k, "").strip())}
    try:
        f = _filter(q)
    except ValidationError:
        return message(who, "Findings", "from and to are dates (YYYY-MM-DD).", 422)
    async with ctx.pool.acquire() as conn:
        rows = await desk.all_findings(conn, f)
    return page("Findings", header(who) + f"<main>{render(q, rows)}</main>")
