"""The printed table: every figure with its target and ratio, then the side-by-side ratios."""

from __future__ import annotations

from typing import Any

from bench.common import Figure, Ratio


def _num(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if unit in ("ms", "MB") or abs(value) < 100:
        return f"{value:,.2f}" if abs(value) < 10 else f"{value:,.1f}"
    return f"{value:,.0f}"


def _verdict(met: bool | None) -> str:
    return {True: "met", False: "MISSED", None: ""}[met]


def table(figures: list[Figure], ratios: list[Ratio], facts: dict[str, Any], results: dict[str, Any]) -> str:
    m, s = facts["machine"], facts["server"]
    lines = [
        f"machine: {m['nproc']} cores, {m['memory_gib']} GiB, {m['cpu']}; "
        f"PostgreSQL {s['postgresql']} ({s['source']}); {results['duration_s']} s"
    ]
    rows = [("figure", "median", "unit", "target", "ratio", "", "repeats / reference")]
    for f in figures:
        target = None if f.target is None else ("≥ " if f.higher_is_better else "≤ ") + _num(f.target, f.unit)
        repeats = " ".join(_num(v, f.unit) for v in f.repeats) if len(f.repeats) > 1 else ""
        if f.reference:
            repeats = (repeats + f"  (ref {f.reference})").strip()
        rows.append(
            (
                f.label,
                _num(f.value, f.unit),
                f.unit,
                target or "",
                "" if f.ratio is None else f"{f.ratio:.2f}",
                _verdict(f.met),
                repeats,
            )
        )
    lines.append(_grid(rows))
    lines.append("")
    rrows = [("side by side (median of per-repeat ratios)", "ratio", "target", "")]
    for r in ratios:
        rrows.append(
            (
                r.label,
                "-" if r.value is None else f"{r.value:.2f}",
                "" if r.target is None else f"≥ {r.target}",
                _verdict(r.met),
            )
        )
    lines.append(_grid(rrows))
    loads = results.get("loads") or {}
    if loads:
        lines.append("")
        lines.append(
            "load averages (1 min) before -> after: "
            + ", ".join(f"{k} {v['before'][0]:.1f} -> {v['after'][0]:.1f}" for k, v in loads.items())
        )
    if results.get("errors"):
        lines.append("")
        lines.extend(f"not measured: {k}: {v}" for k, v in results["errors"].items())
    return "\n".join(lines)


def _grid(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for n, row in enumerate(rows):
        cells = [
            c.ljust(w) if i == 0 or i == len(row) - 1 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        out.append("  ".join(cells).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def markdown(results: dict[str, Any]) -> str:
    """The same table as Markdown (bench/out/results.md), for docs/performance.md."""
    out = [
        "| figure | median | unit | target | ratio | | repeats | reference |",
        "|---|---:|---|---:|---:|---|---|---|",
    ]
    for f in results["figures"]:
        target = (
            ""
            if f["target"] is None
            else (("≥ " if f["higher_is_better"] else "≤ ") + _num(f["target"], f["unit"]))
        )
        ratio = "" if f["ratio_to_target"] is None else f"{f['ratio_to_target']:.2f}"
        repeats = ", ".join(_num(v, f["unit"]) for v in f["repeats"])
        out.append(
            f"| {f['label']} | {_num(f['value'], f['unit'])} | {f['unit']} | {target} | "
            f"{ratio} | {_verdict(f['met'])} | {repeats} | {f['reference'] or ''} |"
        )
    out += [
        "",
        "| side by side (median of per-repeat ratios) | ratio | target | |",
        "|---|---:|---:|---|",
    ]
    for r in results["ratios"]:
        value = "-" if r["value"] is None else f"{r['value']:.2f}"
        target = "" if r["target"] is None else f"≥ {r['target']}"
        out.append(f"| {r['label']} | {value} | {target} | {_verdict(r['met'])} |")
    loads = results.get("loads") or {}
    if loads:
        out += [
            "",
            "Load averages (1 min) before -> after each benchmark: "
            + ", ".join(f"{k} {v['before'][0]:.1f} -> {v['after'][0]:.1f}" for k, v in loads.items())
            + ".",
        ]
    return "\n".join(out) + "\n"
