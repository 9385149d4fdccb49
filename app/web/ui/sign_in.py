"""Signing a browser in and out of the HTML pages.

Same keys as the JSON API (auditor, case_system, admin). A browser signs in once
and gets a short-lived server-side session for the key (`app.web.ui.sessions`),
never the key itself; a page also takes `Authorization: Bearer <key>` (scripts).
Without either an HTML page redirects to the sign-in form instead of answering a
JSON 401. Redirects are relative paths: the Host header is never copied into one.
Sign-in and sign-out refuse posts from another site.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from app.service.keys import Principal
from app.web.deps import Ctx, bearer_key, current_principal
from app.web.problems import Problem
from app.web.ui import sessions
from app.web.ui.case_page import header
from app.web.ui.html import esc, page, secure_headers

router = APIRouter(prefix="/ui", include_in_schema=False)
UI_ROLES = frozenset({"auditor", "case_system", "admin"})
MAX_KEY_CHARS = 256


async def signed_in(request: Request, ctx: Ctx) -> Principal | None:
    """The session's key, or the bearer key a script sent; None when neither is live."""
    if bearer_key(request) is None:
        return await sessions.session_principal(request, ctx)
    try:
        return await current_principal(request, ctx)
    except Problem as problem:
        if problem.status == 401:
            return None
        raise


def redirect(location: str, status: int = 303) -> Response:
    """A redirect to `location`, a path of this site (never a URL built from the Host)."""
    assert location.startswith("/") and not location.startswith("//"), location
    response = RedirectResponse(location, status_code=status)
    secure_headers(response.headers)
    return response


def to_sign_in(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return redirect("/ui/sign-in?" + urlencode({"next": target}))


def _safe_next(value: str | None) -> str:
    """Only a path of this UI: never another host, scheme or `//host` (no open redirect)."""
    if not value or any(c in value for c in "\\\r\n\t") or value.startswith("//"):
        return "/ui/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not parts.path.startswith("/ui/"):
        return "/ui/"
    return value


def _cross_site(request: Request) -> bool:
    """A form post from another site (login/logout CSRF): refused."""
    if request.headers.get("sec-fetch-site") == "cross-site":
        return True
    origin = request.headers.get("origin")
    return origin is not None and (origin == "null" or urlsplit(origin).netloc != request.headers.get("host"))


def _https(request: Request) -> bool:
    """Secure cookies on https, also behind a TLS-terminating proxy (a spoofed header here
    can only make the cookie stricter)."""
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


def message(who: Principal | None, title: str, text: str, status: int) -> Response:
    return page(
        title,
        header(who) + f'<main><section class="card"><h1>{esc(title)}</h1>'
        f'<p>{esc(text)}</p><p><a href="/ui/">Find a case</a></p></section></main>',
        status=status,
    )


def _sign_in_form(next_path: str, error: str | None = None, status: int = 200) -> Response:
    alert = f'<p class="error" role="alert">{esc(error)}</p>' if error else ""
    body = (
        header(None) + '<main class="signin"><section class="card"><h1>Sign in</h1>'
        '<p class="sub">Paste an API key with the auditor, case_system or admin role. It is '
        "exchanged for a session of at most 8 hours (30 minutes idle); the key is not kept.</p>"
        f'{alert}<form method="post" action="/ui/sign-in">'
        f'<input type="hidden" name="next" value="{esc(next_path)}">'
        '<label>API key<input type="password" name="key" autocomplete="off" required '
        f'maxlength="{MAX_KEY_CHARS}" autofocus></label><button type="submit">Sign in</button>'
        "</form></section></main>"
    )
    return page("Sign in", body, status=status)


@router.get("/sign-in")
async def sign_in_form(next: str | None = None) -> Response:
    return _sign_in_form(_safe_next(next))


@router.post("/sign-in")
async def sign_in(request: Request, ctx: Ctx) -> Response:
    if _cross_site(request):
        return message(None, "Refused", "A sign-in form must be sent from this site.", 403)
    form: dict[str, list[str]] = {}
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        form = parse_qs((await request.body()).decode("utf-8", "replace"), max_num_fields=10)
    key = (form.get("key") or [""])[0].strip()
    next_path = _safe_next((form.get("next") or [None])[0])
    who = await ctx.keys.principal(ctx.pool, key) if 0 < len(key) <= MAX_KEY_CHARS else None
    if who is None:
        return _sign_in_form(next_path, "That key is unknown or revoked.", 401)
    if who.role not in UI_ROLES:
        return _sign_in_form(next_path, f"A {who.role} key cannot open these pages.", 403)
    response = redirect(next_path)
    await sessions.start(response, who, ctx, https=_https(request))
    return response


@router.post("/sign-out")
async def sign_out(request: Request, ctx: Ctx) -> Response:
    """End the session server-side (the cookie is worthless afterwards, wherever it is)."""
    if _cross_site(request):
        return message(None, "Refused", "A sign-out form must be sent from this site.", 403)
    response = redirect("/ui/sign-in")
    await sessions.end(request, response, ctx, https=_https(request))
    return response
