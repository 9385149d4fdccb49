"""The auditor pages' server-side sessions: an API key exchanged for a short-lived id.

Signing in stores the SHA-256 of a random session id with the key's id
(`app.store.ui_sessions`) and gives the browser the id in a cookie scoped to the pages
(`Path=/ui; HttpOnly; SameSite=Strict`, `Secure` on https). The key itself never
leaves the sign-in request. A session ends after SESSION_SECONDS, after IDLE_SECONDS
unused, on `POST /ui/sign-out` (deleted server-side, so a copied cookie dies too) and
when its key is revoked. API routes never read this cookie (`deps.current_principal`).
"""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import Response

from app.service.keys import Principal, hash_key
from app.store import ui_sessions as store
from app.web.context import AppContext

SESSION_COOKIE = "caseledger_session"
COOKIE_PATH = "/ui"
SESSION_SECONDS = 8 * 3600
IDLE_SECONDS = 30 * 60
MAX_COOKIE_CHARS = 128


def _session_id(request: Request) -> str | None:
    value = request.cookies.get(SESSION_COOKIE)
    return value if value and len(value) <= MAX_COOKIE_CHARS else None


async def session_principal(request: Request, ctx: AppContext) -> Principal | None:
    """Who the session cookie stands for while the session lives; else None."""
    session_id = _session_id(request)
    if session_id is None:
        return None
    async with ctx.pool.acquire() as conn:
        row = await store.use_session(conn, hash_key(session_id), idle_s=IDLE_SECONDS)
    return Principal(row["key_id"], row["role"], row["provider_id"]) if row else None


async def start(response: Response, who: Principal, ctx: AppContext, *, https: bool) -> None:
    """A new session for `who`, its cookie set on `response`."""
    session_id = secrets.token_urlsafe(32)
    async with ctx.pool.acquire() as conn:
        await store.start_session(
            conn, hash_key(session_id), who.key_id, lifetime_s=SESSION_SECONDS, idle_s=IDLE_SECONDS
        )
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=SESSION_SECONDS,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=https,
    )


async def end(request: Request, response: Response, ctx: AppContext, *, https: bool) -> None:
    """Delete the request's session server-side and its cookie in the browser."""
    session_id = _session_id(request)
    if session_id is not None:
        async with ctx.pool.acquire() as conn:
            await store.end_session(conn, hash_key(session_id))
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict", secure=https)
