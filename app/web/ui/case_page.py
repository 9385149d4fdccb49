"""The auditor's case page: timeline, clock, ledger and history of one case, as HTML."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import quote, urlencode

from app.domain.case import CaseState, clock_view
from app.domain.clock import ClockView
from app.domain.facts import Fact
from app.domain.ledger import ledger_view
from app.domain.policy import PolicyTable
from app.service.keys import Principal
from app.web.history_page import MAX_PAGE, HistoryPage
from app.web.ui.history_table import history_table
from app.web.ui.html import esc
from app.web.ui.panels import clock_card, facts, ledger_card, legend
from app.web.ui.svg import render_svg
from app.web.ui.timeline import build_timeline
from app.web.ui.timeline_model import Entry


@dataclass(frozen=True, slots=True)
class CaseQuery:
    case_id: str
    as_of: date | None
    known_at: datetime | None
    today: date
    from_version: int = 1
    limit: int = MAX_PAGE


@dataclass(frozen=True, slots=True)
class CaseSoFar:
    """The whole case as known (for the clock and ledger cards) and one page of its history."""

    state: CaseState
    version: int
    page: HistoryPage
    refused: list[dict[str, Any]]


def header(who: Principal | None) -> str:
    signed = ""
    if who is not None:
        signed = (
            f'<span class="who">signed in as {esc(who.actor)}</span>'
            '<form method="post" action="/ui/sign-out" class="inline">'
            '<button class="quiet" type="submit">Sign out</button></form>'
        )
    return (
        f'<header class="top"><span class="brand">caseledger</span>'
        f'<a href="/ui/">Find a case</a>{signed}</header>'
    )


def _same(q: CaseQuery) -> dict[str, str]:
    return {k: v.isoformat() for k, v in (("as_of", q.as_of), ("known_at", q.known_at)) if v}


def _pager(q: CaseQuery, next_from: int | None) -> str:
    """Links to the previous and next page of the history (relative, the query kept)."""
    path = f"/ui/cases/{quote(q.case_id)}"

    def link(rel: str, first: int, text: str) -> str:
        query = urlencode({**_same(q), "from_version": str(first), "limit": str(q.limit)})
        return f'<a rel="{rel}" href="{esc(f"{path}?{query}")}">{text} {q.limit} events</a>'

    links = []
    if q.from_version > 1:
        links.append(link("prev", max(q.from_version - q.limit, 1), "previous"))
    if next_from is not None:
        links.append(link("next", next_from, "next"))
    return f'<nav class="pager">{" · ".join(links)}</nav>' if links else ""


def _controls(q: CaseQuery) -> str:
    path = f"/ui/cases/{quote(q.case_id)}"
    same = _same(q)
    json = f"/cases/{quote(q.case_id)}/history" + (f"?{urlencode(same)}" if same else "")
    return (
        f'<form class="inline" method="get" action="{esc(path)}">'
        f"<label>evaluate the clock as of (empty: today, {esc(q.today)})"
        f'<input type="date" name="as_of" value="{esc(q.as_of or "")}"></label>'
        "<label>only events known at (ISO timestamp, UTC)"
        '<input type="text" name="known_at" size="28" placeholder="2024-06-01T00:00:00Z" '
        f'value="{esc(q.known_at.isoformat() if q.known_at else "")}"></label>'
        f'<button type="submit">Show</button><a href="{esc(path)}">today, everything known</a>'
        f'<a href="{esc(json)}">this history as JSON</a></form>'
    )


def _entries(rows: list[dict[str, Any]], facts_list: Sequence[Fact]) -> list[Entry]:
    entries = []
    for row, fact in zip(rows, facts_list, strict=True):
        r = row.get("retracted")
        note = f"retracted at {r['recorded_at']}: {r['reason']}" if r else None
        entries.append(Entry(row["version"], row["type"], fact.data, note))
    return entries


def _timeline_card(q: CaseQuery, view: ClockView, entries: list[Entry], day: date) -> str:
    timeline = build_timeline(entries, view, day)
    description = (
        f"{len(entries)} events from {timeline.first} to {timeline.last}. Status {view.status}"
        + (f", clock start {view.clock_start}" if view.clock_start else "")
        + (f", eligible for closure on {view.eligible_on}" if view.eligible_on else "")
        + "."
    )
    caption = "Hover a shape for its details. Retracted events stay drawn, faded, struck through."
    if not timeline.as_of_shown:
        caption += f" The evaluation date {day} lies beyond the last event and is not drawn."
    svg = render_svg(timeline, title=f"Timeline of case {q.case_id}", description=description)
    return (
        f'<section class="card" id="timeline"><h2>Timeline (business dates)</h2>'
        f'<div class="figure">{svg}</div>{legend()}'
        f'<p class="caption">{esc(caption)}</p></section>'
    )


def render_case(q: CaseQuery, who: Principal, case: CaseSoFar, policy: PolicyTable) -> str:
    """The page body: every value from an event is escaped by the pieces that render it.
    Its cost grows with the page (at most MAX_PAGE events), not with the case; the caller
    runs it in a worker thread all the same."""
    day = q.as_of or q.today
    view = clock_view(case.state, day, policy)
    ledgers = ledger_view(case.state.ledger, policy)
    page = case.page
    rows, last = page.rows, page.events[-1].version if page.events else q.from_version - 1
    known = f"events known at {q.known_at.isoformat()}" if q.known_at else "every event recorded"
    versions = {str(e.event_id): e.version for e in page.events}
    timeline = _timeline_card(q, view, _entries(rows, page.facts), day) if rows else ""
    return (
        header(who) + f"<main><h1>Case {esc(q.case_id)}</h1>"
        f'<p class="sub">Auditor timeline · clock as of {esc(day)} · {esc(known)}'
        f" · version {case.version}</p>"
        f'<section class="card">{_controls(q)}</section>'
        + facts(view, ledgers, case.version, case.version)
        + timeline
        + f'<div class="grid2">{clock_card(view, day, versions)}'
        f"{ledger_card(ledgers, case.refused)}</div>"
        f'<section class="card" id="history"><h2>History: versions {q.from_version} to {last}'
        f" of {case.version}, in order</h2>{_pager(q, page.next_from_version)}"
        f"{history_table(rows, {str(f.event_id): f.data for f in page.facts})}"
        f"{_pager(q, page.next_from_version)}</section></main>"
    )
