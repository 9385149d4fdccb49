"""What-if before adopting, and the read-model refresh after adopting (docs/policy.md).

Both walk the cases in case_id order, a chunk at a time: for each chunk two range
reads of the stored read models bring only the rows an adoption can change (clock
starts and milestones in the proposed version's window), and the pure comparison
(`app.domain.policy_preview`) runs in a worker thread, so the event loop is never
held for long. The refresh then folds only the cases that change and writes their
rows as an append would.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import asyncpg

from app.domain.policy import PolicyTable, PolicyVersion
from app.domain.policy_preview import affected_window, case_changes, with_proposed
from app.projections.projector import projector
from app.service.reads import case_state
from app.store import policy_versions as store
from app.store.pool import Pool

CHUNK = 2000


@dataclass(frozen=True, slots=True)
class PreviewPage:
    changes: list[dict[str, Any]]
    next_cursor: str | None


def _chunk_changes(
    ids: list[str],
    clocks: list[asyncpg.Record],
    ledgers: list[asyncpg.Record],
    after: PolicyTable,
    today: date,
) -> list[dict[str, Any]]:
    clock_of = {r["case_id"]: dict(r) for r in clocks}
    pbas_of: dict[str, list[dict[str, Any]]] = {}
    for r in ledgers:
        pbas_of.setdefault(r["case_id"], []).append(r["detail"])
    found = []
    for case_id in ids:
        if case_id in clock_of or case_id in pbas_of:
            change = case_changes(case_id, clock_of.get(case_id), pbas_of.get(case_id, []), after, today)
            if change is not None:
                found.append(change)
    return found


async def preview(
    pool: Pool,
    current: PolicyTable,
    proposed: PolicyVersion,
    *,
    today: date,
    cursor: str | None = None,
    limit: int = 100,
    chunk: int = CHUNK,
) -> PreviewPage:
    """The cases after `cursor` whose clock or ledger amounts adopting `proposed` would change."""
    after = with_proposed(current, proposed, datetime.now(UTC), "preview")
    window = affected_window(current, proposed.effective_from)
    changes: list[dict[str, Any]] = []
    position = cursor or ""
    while True:
        async with pool.acquire() as conn:
            ids = await store.next_cases(conn, position, chunk)
            if not ids:
                return PreviewPage(changes, None)
            clocks = await store.clock_rows_started_in(conn, position, ids[-1], window)
            ledgers = await store.ledger_rows_priced_in(conn, position, ids[-1], window)
        found = await asyncio.to_thread(_chunk_changes, ids, clocks, ledgers, after, today)
        for change in found:
            changes.append(change)
            if len(changes) == limit:
                return PreviewPage(changes, change["case_id"])
        position = ids[-1]


async def refresh_changed(
    pool: Pool, before: PolicyTable, adopted: PolicyVersion, after: PolicyTable, *, today: date
) -> int:
    """Rewrite the read models of the cases an adoption changed; how many were rewritten.

    `before` is the table the stored rows were projected with; each changed case is
    folded and projected with `after`, and written only if no append overtook it.
    """
    project, cursor, refreshed = projector(after), None, 0
    while True:
        page = await preview(pool, before, adopted, today=today, cursor=cursor, limit=CHUNK)
        for change in page.changes:
            async with pool.acquire() as conn:
                state, version = await case_state(conn, change["case_id"])
                clock, ledger = await asyncio.to_thread(project.rows, state)
                refreshed += await store.refresh_case_models(conn, change["case_id"], version, clock, ledger)
        if page.next_cursor is None:
            return refreshed
        cursor = page.next_cursor
