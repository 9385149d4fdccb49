"""What a provider key may see of a case: only whether it holds an open PBA of its own."""

from __future__ import annotations

import asyncpg

from app.store.queries import load_sql


async def holds_open_pba_of(conn: asyncpg.Connection, case_id: str, provider_id: str) -> bool:
    return bool(await conn.fetchval(load_sql("providers/open_pba_of"), case_id, provider_id))
