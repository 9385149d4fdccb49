"""The auditor's case page: timeline, clock, ledger and history of one case, as HTML."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import quote, urlencode

from app.domain.case import CaseState, clock_view, replay
from app.domain.clock import ClockView
from app.domain.facts import Fact
from app.domain.ledger import ledger_view
from app.domain.policy import PolicyTable
from app.service.history import case_history
from app.service.keys import Principal
from app.store.streams import StoredEvent
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


def _controls(q: CaseQuery) -> str:
    path = f"/ui/cases/{quote(q.case_id)}"
    same = {k: v.isoformat() for k, v in (("as_of", q.as_of), ("known_at", q.known_at)) if v}
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


def render_case(
    q: CaseQuery,
    who: Principal,
    events: Sequence[StoredEvent],
    facts_list: Sequence[Fact],
    policy: PolicyTable,
    refused: list[dict[str, Any]],
) -> str:
    """The page body: every value from an event is escaped by the pieces that render it."""
    day = q.as_of or q.today
    state: CaseState = replay(list(facts_list))
    view = clock_view(state, day, policy)
    ledgers = ledger_view(state.ledger, policy)
    rows = case_history(events, facts_list, policy, as_of=q.as_of)
    version = events[-1].version
    known = f"events known at {q.known_at.isoformat()}" if q.known_at else "every event recorded"
    versions = {str(e.event_id): e.version for e in events}
    return (
        header(who) + f"<main><h1>Case {esc(q.case_id)}</h1>"
        f'<p class="sub">Auditor timeline · clock as of {esc(day)} · {esc(known)}'
        f" · version {version}</p>"
        f'<section class="card">{_controls(q)}</section>'
        + facts(view, ledgers, version, len(events))
        + _timeline_card(q, view, _entries(rows, facts_list), day)
        + f'<div class="grid2">{clock_card(view, day, versions)}'
        f"{ledger_card(ledgers, refused)}</div>"
        f'<section class="card" id="history"><h2>History: {len(rows)} events, in order</h2>'
        f"{history_table(rows, {str(f.event_id): f.data for f in facts_list})}</section></main>"
    )
