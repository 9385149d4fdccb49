"""The summary pieces of the case page: key facts, the clock card, the ledger card, the legend."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from app.domain.clock import ClockView
from app.domain.ledger import PbaLedger
from app.web.ui.html import esc, money, text
from app.web.ui.timeline_model import MILESTONE_NAMES, RULE_NAMES


def _or_dash(value: object) -> object:
    return "—" if value is None else value


def status_badge(status: str) -> str:
    return f'<span class="status status-{esc(status)}">{esc(status.replace("_", " "))}</span>'


def facts(view: ClockView, ledgers: Sequence[PbaLedger], version: int, events: int) -> str:
    def fact(value: str, label: str) -> str:
        return f'<div class="fact"><b>{value}</b><span>{esc(label)}</span></div>'

    total = {
        k: sum((getattr(p, k) for p in ledgers), Decimal("0")) for k in ("earned", "paid", "outstanding")
    }
    return (
        '<div class="facts">'
        + "".join(
            [
                fact(status_badge(view.status), "closure clock status"),
                fact(esc(view.clock_start or "—"), "clock start"),
                fact(esc(view.eligible_on or "—"), "eligible for closure on"),
                fact(
                    esc("—" if view.days_remaining is None else view.days_remaining),
                    "days remaining",
                ),
                fact(esc(money(total["earned"])), f"PBA earned · {money(total['paid'])} paid"),
                fact(esc(money(total["outstanding"])), "PBA outstanding"),
                fact(f"{events} / v{version}", "events / version"),
            ]
        )
        + "</div>"
    )


def clock_card(view: ClockView, as_of: date, versions: dict[str, int]) -> str:
    rule = RULE_NAMES.get(view.clock_start_rule or "", view.clock_start_rule)
    by = versions.get(str(view.clock_start_event_id)) if view.clock_start_event_id else None
    source = f' · set by <a href="#v{by}">v{by}</a>' if by else ""
    blocking = "".join(f"<li>{esc(s)}</li>" for s in view.blocking)
    return (
        f'<section class="card" id="clock"><h2>Closure clock as of {esc(as_of)}</h2><dl class="kv">'
        f"<dt>status</dt><dd>{status_badge(view.status)}</dd>"
        f"<dt>clock start</dt><dd>{esc(view.clock_start or '—')}"
        + (f" · {esc(rule)}{source}" if rule else "")
        + "</dd>"
        f"<dt>eligible on</dt><dd>{esc(view.eligible_on or '—')}</dd>"
        f"<dt>days remaining</dt><dd>{esc(_or_dash(view.days_remaining))}</dd>"
        "</dl><h3>What holds the clock or blocks eligibility</h3>"
        + (
            f'<ul class="blocking">{blocking}</ul>'
            if blocking
            else '<p class="none">Nothing: the case is eligible for closure.</p>'
        )
        + "</section>"
    )


def _pba_table(p: PbaLedger) -> str:
    head = (
        f"<h3>PBA {esc(p.pba_id)} · provider {esc(p.provider_id)} · {esc(p.status)}"
        f" · opened {esc(p.opened_on)}"
        + (f", ended {esc(p.ended_on)} ({esc(p.end_reason)})" if p.ended_on else "")
        + "</h3>"
    )
    lines = "".join(
        f"<tr><td>{esc(MILESTONE_NAMES.get(m.milestone, m.milestone))}</td>"
        f'<td class="nowrap">{esc(m.reached_on)}</td>'
        f'<td class="mono">{esc(m.authorization_id)}</td>'
        + "".join(
            f'<td class="num">{esc(text(v))}</td>' for v in (m.amount, m.authorized, m.paid, m.outstanding)
        )
        + "</tr>"
        + (f'<tr><td colspan="7" class="note">{esc(m.note)}</td></tr>' if m.note else "")
        for m in p.milestones
    )
    totals = "".join(
        f'<td class="num"><b>{esc(text(v))}</b></td>' for v in (p.earned, p.authorized, p.paid, p.outstanding)
    )
    anomalies = "".join(f'<li class="anomaly">{esc(a)}</li>' for a in p.anomalies)
    return (
        head + "<table><thead><tr><th>milestone</th><th>reached</th><th>authorization</th>"
        '<th class="num">earned</th><th class="num">authorized</th><th class="num">paid</th>'
        f'<th class="num">outstanding</th></tr></thead><tbody>{lines}'
        f'<tr><td colspan="3"><b>total</b> · cap {esc(text(p.cap))}, '
        f"left {esc(text(p.cap_left))}</td>{totals}</tr>"
        "</tbody></table>" + (f"<ul>{anomalies}</ul>" if anomalies else "")
    )


def ledger_card(ledgers: Sequence[PbaLedger], refused: list[dict[str, Any]]) -> str:
    body = (
        "".join(_pba_table(p) for p in ledgers)
        or '<p class="none">No performance-based agreement on this case.</p>'
    )
    if refused:
        items = "".join(
            f'<li><span class="mono">{esc(r["refused_at"])}</span> · PBA {esc(r["pba_id"])} · '
            f"{esc(MILESTONE_NAMES.get((r.get('data') or {}).get('milestone'), r['type']))}: "
            f"<b>{esc(r['rule'])}</b> — {esc(r['detail'])}</li>"
            for r in refused
        )
        body += f"<h3>Refused claims</h3><ul>{items}</ul>"
    return f'<section class="card" id="ledger"><h2>Payment ledger</h2>{body}</section>'


def _swatch(inner: str, width: int = 30) -> str:
    box = f'width="{width}" height="18" viewBox="0 0 {width} 18"'
    return f'<svg {box} aria-hidden="true">{inner}</svg>'


_BAR = '<rect x="1" y="3" width="28" height="12" rx="3"/>'
LEGEND = [
    ('<g class="span job">' + _BAR + "</g>", "job (employment outcome)"),
    ('<g class="span auth-paid">' + _BAR + "</g>", "authorization paid in full"),
    ('<g class="span auth-unpaid">' + _BAR + "</g>", "authorization not paid in full (hatched)"),
    ('<g class="span auth-cancelled">' + _BAR + "</g>", "authorization cancelled (dashed)"),
    ('<g class="span pba">' + _BAR + "</g>", "PBA open"),
    ('<g class="mark pay-full"><circle cx="15" cy="9" r="5.5"/></g>', "payment in full"),
    ('<g class="mark pay-partial"><circle cx="15" cy="9" r="5.5"/></g>', "partial payment"),
    ('<g class="mark cancel"><path d="M10 4l10 10M20 4l-10 10"/></g>', "cancellation"),
    ('<g class="mark milestone"><path d="M15 2l7 12h-14z"/></g>', "PBA milestone claim"),
    ('<g class="mark m4"><path d="M15 2l7 7l-7 7l-7 -7z"/></g>', "M4 ended"),
    ('<g class="mark closed"><rect x="9.5" y="3.5" width="11" height="11"/></g>', "case closed"),
    ('<g class="rule rule-clock-start"><line x1="15" x2="15" y1="0" y2="18"/></g>', "clock start"),
    ('<g class="rule rule-eligible"><line x1="15" x2="15" y1="0" y2="18"/></g>', "eligible on"),
    ('<g class="wait"><rect x="1" y="1" width="28" height="16"/></g>', "waiting period"),
    (
        '<g class="mark pay-full retracted"><circle cx="15" cy="9" r="5.5"/>'
        '<path class="strike" d="M7 17L23 1"/></g>',
        "retracted (faded, struck through)",
    ),
]


def legend() -> str:
    items = "".join(f"<li>{_swatch(shape)}{esc(label)}</li>" for shape, label in LEGEND)
    return f'<ul class="legend timeline" aria-label="Legend">{items}</ul>'
