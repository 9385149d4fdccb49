"""The auditor pages' sign-in sessions (table `ui_sessions`, migration 0006).

A session id is random and shown only to the browser, in a cookie; this module sees
its SHA-256 alone, so a copy of the table signs no one in. A session ends at its
absolute expiry, after an idle spell, on sign-out, and when its key is revoked.
"""

from __future__ import annotations

import asyncpg

from app.store.queries import load_sql


async def start_session(
    conn: asyncpg.Connection, session_hash: str, key_id: str, *, lifetime_s: float, idle_s: float
) -> None:
    """Store a new session for `key_id` (and drop the sessions that have ended)."""
    await conn.execute(load_sql("ui_sessions/start"), session_hash, key_id, lifetime_s, idle_s)


async def use_session(conn: asyncpg.Connection, session_hash: str, *, idle_s: float) -> asyncpg.Record | None:
    """(key_id, role, provider_id) of a live session, which counts as used now; else None."""
    return await conn.fetchrow(load_sql("ui_sessions/use"), session_hash, idle_s)


async def end_session(conn: asyncpg.Connection, session_hash: str) -> None:
    await conn.execute("DELETE FROM ui_sessions WHERE session_hash = $1", session_hash)


async def end_sessions_of_key(conn: asyncpg.Connection, key_id: str) -> int:
    """End every session signed in with `key_id` (its revocation); how many ended."""
    status = await conn.execute("DELETE FROM ui_sessions WHERE key_id = $1", key_id)
    return int(status.rsplit(" ", 1)[-1])
