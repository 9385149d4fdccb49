"""The payment-ledger read model: one row per PBA, with the full line detail as JSON.

Per-provider answers are sums over these rows; refused claims come from their
own durable log (`refused_claims`), since a refused claim is not an event.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from app.domain.case import CaseState
from app.domain.ledger import ledger_view
from app.domain.policy import PolicyTable


def ledger_rows(state: CaseState, policy: PolicyTable) -> list[dict[str, Any]]:
    return [pba.to_json() for pba in ledger_view(state.ledger, policy)]


async def case_pbas(
    conn: asyncpg.Connection, case_id: str, *, provider_id: str | None = None
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT detail FROM ledger_pba WHERE case_id = $1 AND ($2::text IS NULL OR provider_id = $2)"
        " ORDER BY opened_on, pba_id",
        case_id,
        provider_id,
    )
    return [r["detail"] for r in rows]


async def refused_claims(
    conn: asyncpg.Connection,
    *,
    case_id: str | None = None,
    provider_id: str | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT case_id, pba_id, provider_id, type, data, rule, detail, actor, refused_at"
        " FROM refused_claims WHERE ($1::text IS NULL OR case_id = $1)"
        " AND ($2::text IS NULL OR provider_id = $2) ORDER BY refused_at, claim_key LIMIT $3",
        case_id,
        provider_id,
        limit,
    )
    return [{**dict(r), "refused_at": r["refused_at"].isoformat()} for r in rows]


async def provider_page(
    conn: asyncpg.Connection, provider_id: str, *, after: tuple[str, str] | None, limit: int
) -> list[dict[str, Any]]:
    case_after, pba_after = after if after else ("", "")
    rows = await conn.fetch(
        "SELECT case_id, detail FROM ledger_pba WHERE provider_id = $1 AND (case_id, pba_id) > ($2, $3)"
        " ORDER BY case_id, pba_id LIMIT $4",
        provider_id,
        case_after,
        pba_after,
        limit,
    )
    return [{"case_id": r["case_id"], **r["detail"]} for r in rows]


async def provider_totals(conn: asyncpg.Connection, provider_id: str) -> dict[str, Any]:
    row = await conn.fetchrow(
        "SELECT count(*) AS pbas, count(*) FILTER (WHERE status = 'open') AS open_pbas,"
        " coalesce(sum(earned), 0) AS earned, coalesce(sum(authorized), 0) AS authorized,"
        " coalesce(sum(paid), 0) AS paid, coalesce(sum(outstanding), 0) AS outstanding"
        " FROM ledger_pba WHERE provider_id = $1",
        provider_id,
    )
    assert row is not None
    money = ("earned", "authorized", "paid", "outstanding")
    return {k: (f"{row[k]:.2f}" if k in money else row[k]) for k in row.keys()}  # noqa: SIM118 (asyncpg Record)
