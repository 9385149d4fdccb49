"""Small HTML helpers: escaping and the page shell every UI page shares.

Everything that comes from an event, a key or a query is escaped here with `esc`;
the builders below only ever join already-escaped fragments. `esc` also shows the
invisible characters that reorder or hide text (bidi overrides and isolates, zero-width
characters) as visible marks such as `⟨U+202E⟩`: an event's text cannot make the page
display something other than what is stored. Pages carry no
script and load nothing from elsewhere: one inline stylesheet, allowed by a
per-response nonce in the Content-Security-Policy.
"""

from __future__ import annotations

import html
import secrets
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from starlette.responses import HTMLResponse

from app.web.ui.style import CSS

# U+200B-200F (zero-width, LRM/RLM), U+202A-202E (embeddings, overrides), U+2060 (word
# joiner), U+2066-2069 (isolates), U+FEFF (zero-width no-break space).
INVISIBLE = [*range(0x200B, 0x2010), *range(0x202A, 0x202F), 0x2060, *range(0x2066, 0x206A), 0xFEFF]
_SHOWN = {code: f"\u27e8U+{code:04X}\u27e9" for code in INVISIBLE}


def esc(value: Any) -> str:
    """Text or attribute value, HTML-escaped (quotes included), invisible controls shown."""
    if value is None:
        return ""
    return html.escape(text(value), quote=True).translate(_SHOWN)


def text(value: Any) -> str:
    """A value as a person reads it: dates ISO, money with two decimals, booleans yes/no."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(text(v) for v in value)
    return str(value)


def money(value: Any) -> str:
    return f"${Decimal(str(value)):,.2f}"


def attrs(**values: Any) -> str:
    """` name="value"` pairs, escaped; a trailing underscore is dropped (class_), `_` -> `-`."""
    parts = []
    for name, value in values.items():
        if value is None or value is False:
            continue
        key = name.rstrip("_").replace("_", "-")
        parts.append(f' {key}="{esc(value)}"')
    return "".join(parts)


def page(title: str, body: str, *, status: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    """A complete page: `title` is plain text (escaped here), `body` is already-built HTML."""
    nonce = secrets.token_urlsafe(16)
    document = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{esc(title)} · caseledger</title>"
        f'<style nonce="{nonce}">{CSS}</style></head>'
        f"<body>{body}</body></html>"
    )
    response = HTMLResponse(document, status_code=status, headers=headers)
    secure_headers(response.headers, nonce)
    return response


def secure_headers(headers: Any, nonce: str | None = None) -> None:
    """No script, no framing, no caching of case data, no referrer leaking case ids."""
    style = f"'nonce-{nonce}'" if nonce else "'none'"
    headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src {style}; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
    headers["Cache-Control"] = "no-store"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Frame-Options"] = "DENY"
