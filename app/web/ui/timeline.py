"""The case's events laid out on a business-date axis (see `timeline_model`).

Pure: built from the recorded events (retracted ones included, flagged) and the
clock view, with no I/O. Retracted events are drawn but never counted: an
authorization is "paid in full" only by a payment that still stands.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import Any

from app.domain.clock import ClockView
from app.web.ui.html import money, text
from app.web.ui.timeline_model import MILESTONE_NAMES, RULE_NAMES, Entry, Row, Rule, Timeline

Rows = dict[str, Row]


def _supported(d: Any) -> str:
    return "supported employment" if d.supported_employment else "not supported employment"


CASE_MARKS: dict[str, Callable[[Any], tuple[date, str, str, str]]] = {
    "CaseOpened": lambda d: (
        d.opened_on,
        "case",
        "opened",
        f"Case opened on {d.opened_on} ({_supported(d)})",
    ),
    "IPEAmended": lambda d: (
        d.amended_on,
        "case",
        "IPE amended",
        f"IPE amended on {d.amended_on}: adds {text(d.service_categories_added) or 'no categories'}",
    ),
    "EmploymentFollowUpCancelled": lambda d: (
        d.cancelled_on,
        "ef-cancelled",
        "EF cancelled",
        f"Employment Follow-up cancelled on {d.cancelled_on}: {d.reason}",
    ),
    "M4Ended": lambda d: (d.end_date, "m4", "M4 ended", f"M4 ended on {d.end_date}"),
    "CaseClosed": lambda d: (
        d.closed_on,
        "closed",
        f"closed ({d.outcome})",
        f"Case closed on {d.closed_on}, {d.outcome}" + (f": {d.reason}" if d.reason else ""),
    ),
}


def _row(rows: Rows, key: str, label: str, sublabel: str = "") -> Row:
    return rows.setdefault(key, Row(key, label, sublabel))


Later = dict[tuple[str, str], list[Entry]]
LATER_FACTS = {
    "EmploymentEnded": ("job", "job_id"),
    "PBAEnded": ("pba", "pba_id"),
    "AuthorizationPaid": ("auth", "authorization_id"),
    "AuthorizationCancelled": ("auth", "authorization_id"),
}


def _later_facts(entries: list[Entry]) -> Later:
    """Ends, payments and cancellations by what they end, pay or cancel: one pass."""
    index: Later = {}
    for e in entries:
        if e.type in LATER_FACTS:
            kind, field = LATER_FACTS[e.type]
            index.setdefault((kind, getattr(e.data, field)), []).append(e)
    return index


def _job(rows: Rows, e: Entry, later: Later) -> None:
    d = e.data
    row = _row(rows, f"job:{d.job_id}", f"job {d.job_id}", d.employer)
    ends = later.get(("job", d.job_id), [])
    standing = [x for x in ends if not x.retracted]
    end = standing[-1].data.end_date if standing else None
    temporary = " (temporary)" if d.temporary else ""
    title = (
        f"Job {d.job_id} at {d.employer}{temporary}: started {d.start_date}"
        + (f", ended {end}" if end else ", current")
        + f"; SOC {d.soc_code}, {text(d.hours_per_week)} h/week at {money(d.hourly_wage)}/h"
    )
    label = f"{d.employer}{temporary}" + ("" if end else " (current)")
    row.spans.append(e.span(d.start_date, end, "job", label, title))
    for x in ends:
        row.marks.append(
            x.mark(
                x.data.end_date,
                "job-end",
                "ended",
                f"Job {d.job_id} ended on {x.data.end_date}: {x.data.reason}",
            )
        )


def _auth_status(mine: list[Entry]) -> tuple[str, str]:
    standing = [x for x in mine if not x.retracted]
    if any(x.type == "AuthorizationCancelled" for x in standing):
        return "auth-cancelled", "cancelled"
    if any(x.type == "AuthorizationPaid" and x.data.paid_in_full for x in standing):
        return "auth-paid", "paid in full"
    return "auth-unpaid", "not paid in full"


def _authorization(rows: Rows, e: Entry, later: Later) -> None:
    d = e.data
    tags = [d.service_category, d.provider_id]
    tags += ["post-employment"] if d.post_employment else []
    tags += [f"{d.pba_id} {MILESTONE_NAMES.get(d.milestone, d.milestone)}"] if d.pba_id else []
    tags += ["M4"] if d.m4 else []
    row = _row(rows, f"auth:{d.authorization_id}", d.authorization_id, " · ".join(tags))
    mine = later.get(("auth", d.authorization_id), [])
    kind, status = _auth_status(mine)
    title = (
        f"Authorization {d.authorization_id} ({d.service_category}) for {d.provider_id}, "
        f"{d.start_date} to {d.end_date}, {money(d.amount)}: {status}"
    )
    row.spans.append(e.span(d.start_date, d.end_date, kind, f"{money(d.amount)} · {status}", title))
    for x in mine:
        p = x.data
        if x.type == "AuthorizationCancelled":
            title = f"Authorization {p.authorization_id} cancelled on {p.cancelled_on}"
            row.marks.append(x.mark(p.cancelled_on, "cancel", "cancelled", title))
            continue
        full = "paid in full" if p.paid_in_full else "partial payment"
        title = (
            f"Payment of {money(p.amount)} on {p.payment_date} ({full}) on authorization {p.authorization_id}"
        )
        kind = "pay-full" if p.paid_in_full else "pay-partial"
        row.marks.append(x.mark(p.payment_date, kind, money(p.amount), title))


def _pba(rows: Rows, e: Entry, later: Later) -> None:
    d = e.data
    ends = later.get(("pba", d.pba_id), [])
    end = next((x.data for x in reversed(ends) if not x.retracted), None)
    status = f"ended {end.ended_on} ({end.reason})" if end else "open"
    row = _row(rows, f"pba:{d.pba_id}", f"PBA {d.pba_id}", f"provider {d.provider_id} · {status}")
    title = f"PBA {d.pba_id} with {d.provider_id}, opened {d.opened_on}, {status}"
    label = f"ended: {end.reason}" if end else ""
    row.spans.append(e.span(d.opened_on, end.ended_on if end else None, "pba", label, title))


def _milestone(rows: Rows, e: Entry, later: Later) -> None:
    d = e.data
    name = MILESTONE_NAMES.get(d.milestone, d.milestone)
    row = _row(rows, f"pba:{d.pba_id}", f"PBA {d.pba_id}")
    row.marks.append(
        e.mark(
            d.reached_on,
            "milestone",
            name,
            f"PBA {d.pba_id}: {name} reached on {d.reached_on} (authorization {d.authorization_id})",
        )
    )


DRAW: dict[str, Callable[[Rows, Entry, Later], None]] = {
    "EmploymentStarted": _job,
    "PBAOpened": _pba,
    "PBAMilestoneReached": _milestone,
    "AuthorizationIssued": _authorization,
}


def _ordered(rows: Rows, entries: list[Entry]) -> tuple[Row, ...]:
    """Case, jobs, then each PBA followed by its milestone authorizations, then the others."""
    by_pba: dict[str, list[str]] = {}
    for e in entries:
        if e.type == "AuthorizationIssued" and e.data.pba_id:
            by_pba.setdefault(e.data.pba_id, []).append(f"auth:{e.data.authorization_id}")
    keys = ["case", *(k for k in rows if k.startswith("job:"))]
    for key in [k for k in rows if k.startswith("pba:")]:
        keys += [key, *(a for a in by_pba.get(key[4:], []) if a in rows)]
    keys += list(rows)
    return tuple(rows[k] for k in dict.fromkeys(keys))


def _dates(rows: Iterable[Row]) -> list[date]:
    found: list[date] = []
    for row in rows:
        found += [m.on for m in row.marks]
        found += [d for s in row.spans for d in (s.start, s.end) if d is not None]
    return found


def build_timeline(entries: list[Entry], view: ClockView, as_of: date) -> Timeline:
    """The rows and rules; the axis spans every date drawn, and as_of when it is near."""
    rows: Rows = {"case": Row("case", "Case", "opened, IPE, M4, closure")}
    later = _later_facts(entries)
    for e in entries:
        if e.type in CASE_MARKS:
            rows["case"].marks.append(e.mark(*CASE_MARKS[e.type](e.data)))
        elif e.type in DRAW:
            DRAW[e.type](rows, e, later)
    rules = _rules(entries, view)
    dates = _dates(rows.values()) + [r.on for r in rules] or [as_of]
    first, last = min(dates), max(dates)
    shown = first <= as_of <= last + max(timedelta(days=30), (last - first) / 4)
    if shown:
        last = max(last, as_of)
        title = f"The clock is evaluated as of {as_of}"
        rules.append(Rule(as_of, "as-of", f"as of {as_of}", title))
    pad = max(timedelta(days=7), (last - first) / 30)
    wait = (view.clock_start, view.eligible_on) if view.clock_start and view.eligible_on else None
    return Timeline(_ordered(rows, entries), tuple(rules), wait, first - pad, last + pad, shown)


def _rules(entries: list[Entry], view: ClockView) -> list[Rule]:
    rules: list[Rule] = []
    if view.clock_start:
        how = RULE_NAMES.get(view.clock_start_rule or "", view.clock_start_rule or "")
        rules.append(
            Rule(
                view.clock_start,
                "clock-start",
                f"clock start {view.clock_start}",
                f"The closure clock starts on {view.clock_start}: {how}",
            )
        )
    if view.eligible_on:
        rules.append(
            Rule(
                view.eligible_on,
                "eligible",
                f"eligible {view.eligible_on}",
                f"Eligible for closure on {view.eligible_on}",
            )
        )
    closed = [e for e in entries if e.type == "CaseClosed" and not e.retracted]
    if closed:
        d = closed[-1].data
        rules.append(
            Rule(
                d.closed_on,
                "closed",
                f"closed {d.closed_on}",
                f"Case closed on {d.closed_on} ({d.outcome})",
            )
        )
    return rules
