"""The timeline drawn as inline SVG: business dates on the x axis, one row per job,
authorization and PBA, and vertical rules for clock start, eligible_on, closure and as_of.

Shapes carry their meaning twice (shape or pattern and a text label), never by color
alone; each has a <title> with the full sentence, which browsers show on hover.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from app.web.ui.html import attrs, esc
from app.web.ui.timeline_model import Mark, Row, Span, Timeline

WIDTH, GUTTER, RIGHT = 1200, 236, 28
ROW_H, BAR_Y, BAR_H = 46, 17, 14
LEVEL_H = 16
CHAR_W = 6.1  # average advance of the 11px label font, for fitting labels


class _Axis:
    def __init__(self, t: Timeline) -> None:
        self.first = t.first
        self.days = max((t.last - t.first).days, 1)

    def x(self, day: date) -> float:
        return round(GUTTER + (day - self.first).days / self.days * (WIDTH - GUTTER - RIGHT), 1)


def _levels(items: list[tuple[float, float]]) -> list[int]:
    """Greedy: the first level on which (start, end) clears what is already there."""
    ends: list[float] = []
    out = []
    for start, end in items:
        level = next((i for i, e in enumerate(ends) if e + 6 < start), len(ends))
        if level == len(ends):
            ends.append(end)
        else:
            ends[level] = end
        out.append(level)
    return out


def _label_box(x: float, label: str) -> tuple[float, float, str]:
    """(start, end, anchor) of a label beside x; flipped left near the right edge."""
    width = len(label) * CHAR_W + 4
    if x + 4 + width > WIDTH - 4:
        return x - 4 - width, x - 4, "end"
    return x + 4, x + 4 + width, "start"


def _rules(t: Timeline, axis: _Axis, top: float, bottom: float) -> str:
    rules = sorted(t.rules, key=lambda r: axis.x(r.on))
    boxes = [_label_box(axis.x(r.on), r.label) for r in rules]
    levels = _levels([(b[0], b[1]) for b in boxes])
    out = []
    for rule, (_, _, anchor), level in zip(rules, boxes, levels, strict=True):
        x, y = axis.x(rule.on), 14 + level * LEVEL_H
        tx = x + 4 if anchor == "start" else x - 4
        out.append(
            f"<g{attrs(class_=f'rule rule-{rule.kind}', data_rule=rule.kind, data_date=rule.on)}>"
            f"<title>{esc(rule.title)}</title>"
            f'<line x1="{x}" x2="{x}" y1="{y - 10}" y2="{bottom}"/>'
            f'<text class="rule-label" x="{tx}" y="{y}" text-anchor="{anchor}">'
            f"{esc(rule.label)}</text></g>"
        )
    return "".join(out)


def _wait(t: Timeline, axis: _Axis, top: float, bottom: float) -> str:
    if t.wait is None:
        return ""
    x1, x2 = axis.x(t.wait[0]), axis.x(t.wait[1])
    days = (t.wait[1] - t.wait[0]).days
    return (
        f'<g class="wait" data-kind="wait"><title>The {days}-day wait before closure: '
        f"{t.wait[0]} to {t.wait[1]}</title>"
        f'<rect x="{x1}" y="{top}" width="{max(x2 - x1, 1)}" height="{bottom - top}"/>'
        f'<text x="{(x1 + x2) / 2}" y="{bottom - 6}" text-anchor="middle">'
        f"{days}-day wait</text></g>"
    )


def _ticks(t: Timeline, axis: _Axis, top: float, bottom: float) -> str:
    months = (t.last.year - t.first.year) * 12 + t.last.month - t.first.month + 1
    step = next((s for s in (1, 2, 3, 6, 12, 24) if months / s <= 14), 60)
    out = []
    y, m = t.first.year, t.first.month
    while date(y, m, 1) <= t.last:
        day = date(y, m, 1)
        if day >= t.first and ((y * 12 + m - 1) % step == 0):
            x = axis.x(day)
            label = day.strftime("%b %Y") if m == 1 or step >= 12 or not out else day.strftime("%b")
            out.append(
                f'<line class="grid" x1="{x}" x2="{x}" y1="{top}" y2="{bottom}"/>'
                f'<text class="tick" x="{x}" y="{bottom + 16}" text-anchor="middle">{label}</text>'
            )
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return "".join(out)


def _span_label(x1: float, w: float, need: float, marks: list[float]) -> tuple[float, str]:
    """Inside the bar when it fits clear of the marks, else after it, else before it."""

    def clear(a: float, b: float) -> bool:
        return not any(a - 8 <= m <= b + 8 for m in marks)

    if need <= w and clear(x1, x1 + need):
        return x1 + 5, "start"
    if x1 + w + need < WIDTH - RIGHT and clear(x1 + w, x1 + w + need):
        return x1 + w + 5, "start"
    return x1 - 5, "end"


def _span(s: Span, axis: _Axis, row_top: float, plot_end: float, marks: list[float]) -> str:
    x1 = axis.x(s.start)
    x2 = axis.x(s.end) if s.end else plot_end
    w = max(x2 - x1, 3)
    y, mid = row_top + BAR_Y, row_top + BAR_Y + BAR_H / 2
    flag = "yes" if s.retracted else None
    label = s.label + (" (retracted)" if s.retracted and s.label else "")
    tx, anchor = _span_label(x1, w, len(label) * CHAR_W + 10, marks)
    parts = [f'<rect x="{x1}" y="{y}" width="{w}" height="{BAR_H}" rx="3"/>']
    if s.end is None:
        parts.append(f'<path class="more" d="M{plot_end} {y - 3} l9 {BAR_H / 2 + 3} l-9 {BAR_H / 2 + 3}z"/>')
    if s.retracted:
        parts.append(f'<line class="strike" x1="{x1}" x2="{x1 + w}" y1="{mid}" y2="{mid}"/>')
    if label:
        parts.append(f'<text x="{tx}" y="{y + BAR_H - 3}" text-anchor="{anchor}">{esc(label)}</text>')
    title = s.title + (f". RETRACTED: {s.retracted}" if s.retracted else "")
    cls = f"span {s.kind}" + (" retracted" if s.retracted else "")
    return (
        f"<g{attrs(class_=cls, data_kind=s.kind, data_version=s.version, data_retracted=flag)}>"
        f"<title>{esc(title)}</title>{''.join(parts)}</g>"
    )


def _shape(kind: str, x: float, y: float) -> str:
    if kind in ("pay-full", "pay-partial"):
        return f'<circle cx="{x}" cy="{y}" r="5.5"/>'
    if kind == "cancel":
        return f'<path d="M{x - 5} {y - 5}l10 10M{x + 5} {y - 5}l-10 10"/>'
    if kind == "milestone":
        return f'<path d="M{x} {y - 8}l7 12h-14z"/>'
    if kind == "job-end":
        return f'<path d="M{x - 1.5} {y - 9}h3v18h-3z"/>'
    if kind == "closed":
        return f'<rect x="{x - 5.5}" y="{y - 5.5}" width="11" height="11"/>'
    return f'<path d="M{x} {y - 7}l7 7l-7 7l-7 -7z"/>'


def _marks(marks: list[Mark], axis: _Axis, row_top: float) -> str:
    marks = sorted(marks, key=lambda m: (m.on, m.version))
    labels = [m.label + (" (retracted)" if m.retracted else "") for m in marks]
    boxes = [_label_box(axis.x(m.on) - 8, lab) for m, lab in zip(marks, labels, strict=True)]
    levels = _levels([(b[0], b[1]) for b in boxes])
    out = []
    for m, label, (_, _, anchor), level in zip(marks, labels, boxes, levels, strict=True):
        x, y = axis.x(m.on), row_top + BAR_Y + BAR_H / 2
        ty = row_top + 11 if level % 2 == 0 else row_top + ROW_H - 3
        tx = x - 4 if anchor == "start" else x - 12
        slash = f'<path class="strike" d="M{x - 8} {y + 8}L{x + 8} {y - 8}"/>' if m.retracted else ""
        title = m.title + (f". RETRACTED: {m.retracted}" if m.retracted else "")
        cls = f"mark {m.kind}" + (" retracted" if m.retracted else "")
        data = attrs(
            class_=cls,
            data_kind=m.kind,
            data_version=m.version,
            data_date=m.on,
            data_retracted="yes" if m.retracted else None,
        )
        out.append(
            f"<g{data}>"
            f"<title>{esc(title)}</title>{_shape(m.kind, x, y)}{slash}"
            f'<text x="{tx}" y="{ty}" text-anchor="{anchor}">{esc(label)}</text></g>'
        )
    return "".join(out)


def _clip(value: str, chars: int) -> str:
    return value if len(value) <= chars else value[: chars - 1] + "…"


def _row_frame(row: Row, index: int, top: float) -> str:
    y = top + index * ROW_H
    return (
        f'<rect class="row-bg{" odd" if index % 2 else ""}" x="0" y="{y}" '
        f'width="{WIDTH}" height="{ROW_H}"/>'
        f'<text class="row-label" x="12" y="{y + 20}"><title>{esc(row.label)}</title>'
        f"{esc(_clip(row.label, 30))}</text>"
        f'<text class="row-sub" x="12" y="{y + 35}"><title>{esc(row.sublabel)}</title>'
        f"{esc(_clip(row.sublabel, 36))}</text>"
    )


def _row(row: Row, index: int, axis: _Axis, top: float, plot_end: float) -> str:
    y = top + index * ROW_H
    return (
        f"<g{attrs(class_='row', data_row=row.key)}>"
        + "".join(_span(s, axis, y, plot_end, [axis.x(m.on) for m in row.marks]) for s in row.spans)
        + _marks(row.marks, axis, y)
        + "</g>"
    )


def render_svg(t: Timeline, *, title: str, description: str) -> str:
    axis = _Axis(t)
    boxes = [_label_box(axis.x(r.on), r.label) for r in sorted(t.rules, key=lambda r: r.on)]
    levels = max(_levels([(b[0], b[1]) for b in boxes]), default=0) + 1
    top = 10 + levels * LEVEL_H
    bottom = top + len(t.rows) * ROW_H
    height = bottom + 28
    plot_end = WIDTH - RIGHT
    body: list[Any] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-labelledby="tl-title tl-desc" data-first="{t.first}" '
        f'data-last="{t.last}">'
        f'<title id="tl-title">{esc(title)}</title><desc id="tl-desc">{esc(description)}</desc>'
        '<defs><pattern id="hatch" width="7" height="7" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="7" height="7" fill="#fff1d6"/>'
        '<rect width="3" height="7" fill="#f2c26b"/></pattern></defs>',
        "".join(_row_frame(r, i, top) for i, r in enumerate(t.rows)),
        f'<line class="gutter" x1="{GUTTER - 8}" x2="{GUTTER - 8}" y1="{top}" y2="{bottom}"/>',
        _ticks(t, axis, top, bottom),
        _wait(t, axis, top, bottom),
        "".join(_row(r, i, axis, top, plot_end) for i, r in enumerate(t.rows)),
        _rules(t, axis, top, bottom),
        f'<line class="axis" x1="{GUTTER}" x2="{plot_end}" y1="{bottom}" y2="{bottom}"/>',
        "</svg>",
    ]
    return "".join(body)
