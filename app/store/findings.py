"""The findings queries: one batched statement per rule over the events and read models.

Each rule's rows come from `sql/findings/<rule>.sql`, run under the list's filters
(`sql/findings/wrapper.sql`). They are set-based (joins on the event table's keys),
so a million events cost one pass each, not one query per case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg

from app.store.queries import load_sql

# The rules computed over the read models, by the file that computes them.
DERIVED_RULES = {
    "money_event_retracted": "money_retracted",
    "date_changed_after_the_fact": "dates_changed",
    "authorization_open_at_closure": "open_at_closure",
    "eligible_not_closed": "eligible_open",
}


@dataclass(frozen=True, slots=True)
class FindingFilter:
    rule: str | None = None
    from_day: date | None = None
    to_day: date | None = None
    provider_id: str | None = None
    today: date | None = None
    eligible_days: int = 90
    case_id: str | None = None


def statements(rule: str | None) -> list[str]:
    """The files to run for `rule` (None: every rule; an import rule: the import file)."""
    if rule is None:
        return ["imported", *DERIVED_RULES.values()]
    return [DERIVED_RULES.get(rule, "imported")]


async def fetch_findings(conn: asyncpg.Connection, f: FindingFilter) -> list[dict[str, Any]]:
    """Every finding under `f`, rule by rule (unsorted)."""
    rows: list[dict[str, Any]] = []
    for name in statements(f.rule):
        sql = load_sql("findings/wrapper").replace("{rows}", load_sql(f"findings/{name}"))
        args = (f.from_day, f.to_day, f.provider_id, f.today, f.eligible_days, f.case_id)
        found = await conn.fetch(sql, *args)
        rows.extend(dict(r) for r in found if f.rule is None or r["rule"] == f.rule)
    return rows


async def audit_sample(
    conn: asyncpg.Connection,
    seed: str,
    size: int,
    phase: str | None,
    closed_from: date | None,
    closed_to: date | None,
) -> list[dict[str, Any]]:
    """The first `size` cases in the seed's order (see `sql/audit_sample.sql`)."""
    found = await conn.fetch(load_sql("audit_sample"), seed, phase, closed_from, closed_to, size)
    return [dict(r) for r in found]
