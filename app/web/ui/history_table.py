"""The history table: one row per recorded event, with its key data and what it changed
in the clock and the ledger (rows from `app.history.case_history`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.web.ui.html import esc, money, text
from app.web.ui.timeline_model import MILESTONE_NAMES, RULE_NAMES

CLOCK_FIELDS = {
    "status": "status",
    "clock_start": "clock start",
    "clock_start_rule": "rule",
    "eligible_on": "eligible on",
}
LEDGER_FIELDS = ("earned", "paid", "outstanding", "cap_left")


def _opt(label: str, value: Any) -> list[str]:
    """`label value` when given; a flag is named only when true."""
    if value in (None, False, [], ""):
        return []
    return [label if value is True else f"{label} {text(value)}"]


def _case(d: Any) -> list[str]:
    return [
        f"opened {d.opened_on}",
        f"supported employment: {text(d.supported_employment)}",
        f"IPE: {text(d.ipe_service_categories) or 'none'}",
    ]


def _ipe(d: Any) -> list[str]:
    se = d.supported_employment
    return [
        f"amended {d.amended_on}",
        f"adds: {text(d.service_categories_added) or 'nothing'}",
        *([] if se is None else [f"supported employment: {text(se)}"]),
        *_opt("accepts job", d.accepts_job_id),
    ]


def _job(d: Any) -> list[str]:
    return [
        f"job {d.job_id} at {d.employer}",
        f"from {d.start_date}",
        f"SOC {d.soc_code}",
        f"{text(d.hours_per_week)} h/week at {money(d.hourly_wage)}/h",
        *_opt("temporary", d.temporary),
        *_opt("continuous with job", d.continuous_with_job_id),
        *_opt("career pathway:", d.career_pathway),
    ]


def _auth(d: Any) -> list[str]:
    milestone = MILESTONE_NAMES.get(d.milestone, d.milestone)
    return [
        d.authorization_id,
        f"{d.service_category} by {d.provider_id}",
        f"{d.start_date} to {d.end_date}",
        money(d.amount),
        *_opt("post-employment", d.post_employment),
        *_opt("pre-authorizes", f"PBA {d.pba_id} {milestone}" if d.pba_id else None),
        *_opt("M4", d.m4),
    ]


def _milestone(d: Any) -> list[str]:
    evidence = [
        f"{k.replace('_', ' ')}: {text(getattr(d, k))}"
        for k in (
            "signed_by",
            "face_to_face",
            "job_id",
            "first_paid_shift_on",
            "placement_type",
            "provider_is_employer",
            "job_source",
        )
        if getattr(d, k) is not None
    ]
    return [
        f"PBA {d.pba_id}",
        f"{MILESTONE_NAMES.get(d.milestone, d.milestone)} reached {d.reached_on}",
        f"authorization {d.authorization_id}",
        *evidence,
    ]


SUMMARIES: dict[str, Callable[[Any], list[str]]] = {
    "CaseOpened": _case,
    "IPEAmended": _ipe,
    "EmploymentStarted": _job,
    "EmploymentEnded": lambda d: [f"job {d.job_id} ended {d.end_date}", d.reason],
    "EmploymentFollowUpCancelled": lambda d: [f"cancelled {d.cancelled_on}", d.reason],
    "CaseClosed": lambda d: [f"closed {d.closed_on}", d.outcome, *_opt("reason:", d.reason)],
    "AuthorizationIssued": _auth,
    "AuthorizationPaid": lambda d: [
        d.authorization_id,
        f"paid {money(d.amount)} on {d.payment_date}",
        "in full" if d.paid_in_full else "partial",
    ],
    "AuthorizationCancelled": lambda d: [d.authorization_id, f"cancelled {d.cancelled_on}"],
    "M4Ended": lambda d: [f"M4 ended {d.end_date}", *_opt("authorization", d.authorization_id)],
    "PBAOpened": lambda d: [
        f"PBA {d.pba_id}",
        f"provider {d.provider_id}",
        f"opened {d.opened_on}",
    ],
    "PBAMilestoneReached": _milestone,
    "PBAEnded": lambda d: [f"PBA {d.pba_id}", f"ended {d.ended_on}", d.reason],
}


def summary(event_type: str, data: Any, versions: dict[str, tuple[int, str]]) -> str:
    """The event's key data as escaped HTML."""
    if event_type == "EventRetracted":
        version, target = versions.get(str(data.retracted_event_id), (None, "an unknown event"))
        link = f'<a href="#v{version}">v{version} {esc(target)}</a>' if version else esc(target)
        return f"retracts {link}: {esc(data.reason)}"
    build = SUMMARIES.get(event_type)
    parts = build(data) if build else [f"{k}: {text(v)}" for k, v in data.model_dump().items()]
    return " · ".join(esc(p) for p in parts)


def _value(key: str, value: Any) -> str:
    if value is None:
        return "—"
    return RULE_NAMES.get(value, text(value)) if key == "clock_start_rule" else text(value)


def clock_changes(changed: dict[str, Any]) -> str:
    if not changed:
        return '<span class="none">no change</span>'
    return "".join(
        f'<span class="chg">{esc(CLOCK_FIELDS.get(k, k))}: '
        f'<span class="from">{esc(_value(k, c["from"]))}</span>'
        f" → <b>{esc(_value(k, c['to']))}</b></span>"
        for k, c in changed.items()
    )


def ledger_changes(changed: dict[str, Any]) -> str:
    if not changed:
        return '<span class="none">no change</span>'
    out = []
    for pba_id, c in changed.items():
        before, after = c.get("from") or {}, c.get("to") or {}
        diffs = [
            f'{k.replace("_", " ")} <span class="from">{esc(text(before.get(k, "—")))}</span>'
            f" → <b>{esc(text(after.get(k, '—')))}</b>"
            for k in LEDGER_FIELDS
            if before.get(k) != after.get(k)
        ]
        out.append(f'<span class="chg">PBA {esc(pba_id)}: {"; ".join(diffs) or "no amounts"}</span>')
    return "".join(out)


def history_table(rows: list[dict[str, Any]], facts_data: dict[str, Any]) -> str:
    versions = {r["event_id"]: (r["version"], r["type"]) for r in rows}
    body = []
    for r in rows:
        retracted = r.get("retracted")
        cls = "retracted" if retracted else "retraction" if r["type"] == "EventRetracted" else None
        kind = f"<del>{esc(r['type'])}</del>" if retracted else esc(r["type"])
        if retracted:
            by = versions.get(retracted["by_event_id"], ("?", ""))[0]
            kind += (
                f'<span class="note">retracted by <a href="#v{by}">v{by}</a> at '
                f"{esc(retracted['recorded_at'])}: {esc(retracted['reason'])}</span>"
            )
        actor = r["metadata"].get("actor")
        body.append(
            f'<tr id="v{r["version"]}" data-version="{r["version"]}"'
            + (f' class="{cls}" data-retracted="{"yes" if retracted else "no"}"' if cls else "")
            + ">"
            f'<td class="num">{r["version"]}</td>'
            f'<td class="mono">{esc(r["recorded_at"])}'
            f'<span class="actor mono">{esc(actor)}</span></td>'
            f'<td class="type">{kind}</td>'
            f"<td>{summary(r['type'], facts_data[r['event_id']], versions)}</td>"
            f"<td>{clock_changes(r['clock']['changed'])}</td>"
            f"<td>{ledger_changes(r['ledger']['changed'])}</td></tr>"
        )
    return (
        '<table class="history"><colgroup><col class="v"><col class="at"><col class="type"><col>'
        '<col class="clock"><col class="ledger"></colgroup><thead><tr><th class="num">v</th>'
        "<th>recorded at (UTC)"
        '<span class="actor">actor</span></th><th>type</th><th>key data</th>'
        "<th>clock changed</th><th>ledger changed</th></tr></thead><tbody>"
        + "".join(body)
        + "</tbody></table>"
    )
