"""Attacks on the UI's sign-in (issue 14, item 5): the cookie is a short-lived server-side
session scoped to the pages, never the API key, and never an API credential.

Each test performs the attack with a real key against the app and asserts it fails.
"""

from __future__ import annotations

import hashlib
from typing import Any

import httpx

from tests.builders import case_opened

SESSION = "caseledger_session"


async def _signed_in(api: Any, key: str) -> str:
    """Sign in with `key` through the form; the session cookie's value."""
    response = await api.client.post("/ui/sign-in", data={"key": key})
    assert response.status_code == 303, response.text
    session = response.cookies[SESSION]
    api.client.cookies.clear()
    return session


async def _page(api: Any, path: str, session: str) -> httpx.Response:
    return await api.client.get(path, headers={"Cookie": f"{SESSION}={session}"})


async def test_the_cookie_is_a_random_session_never_the_key_and_stored_hashed(api, pool):
    session = await _signed_in(api, api.keys["auditor"])
    assert api.keys["auditor"] not in session and len(session) >= 40
    async with pool.acquire() as conn:
        stored = await conn.fetch("SELECT session_hash FROM ui_sessions")
    hashes = {r["session_hash"] for r in stored}
    assert hashlib.sha256(session.encode()).hexdigest() in hashes
    assert session not in hashes


async def test_api_routes_never_accept_the_session_cookie(api, case_id):
    """Attack: a signed-in browser's cookie (or a stolen one) used on the JSON API."""
    await api.append(case_id, case_opened())
    admin_session = await _signed_in(api, api.keys["admin"])
    # A client that ignores the cookie's `Path=/ui` sends it to the API anyway.
    for path in (f"/cases/{case_id}/history", f"/cases/{case_id}/events", "/admin/api-keys", "/metrics"):
        response = await api.client.get(path, headers={"Cookie": f"{SESSION}={admin_session}"})
        assert response.status_code == 401, (path, response.text)
    assert (await _page(api, f"/ui/cases/{case_id}", admin_session)).status_code == 200


async def test_the_old_raw_key_cookie_opens_nothing(api, case_id):
    """Attack: the cookie this service used to set, `caseledger_key=<API key>`."""
    await api.append(case_id, case_opened())
    cookie = {"Cookie": f"caseledger_key={api.keys['admin']}"}
    assert (await api.client.get("/admin/api-keys", headers=cookie)).status_code == 401
    assert (await api.client.get(f"/cases/{case_id}/history", headers=cookie)).status_code == 401
    page = await api.client.get(f"/ui/cases/{case_id}", headers=cookie)
    assert page.status_code == 303 and page.headers["location"].startswith("/ui/sign-in?")


async def test_signing_out_ends_the_session_server_side(api, case_id):
    """Attack: keep a copy of the cookie, let the user sign out, replay the copy."""
    await api.append(case_id, case_opened())
    session = await _signed_in(api, api.keys["auditor"])
    assert (await _page(api, f"/ui/cases/{case_id}", session)).status_code == 200
    out = await api.client.post("/ui/sign-out", headers={"Cookie": f"{SESSION}={session}"})
    assert out.status_code == 303 and "Max-Age=0" in out.headers["set-cookie"]
    replayed = await _page(api, f"/ui/cases/{case_id}", session)
    assert replayed.status_code == 303 and replayed.headers["location"].startswith("/ui/sign-in?")


async def test_revoking_the_key_ends_its_sessions(api, pool, case_id):
    """Attack: a key is revoked (leaked, staff left) but its browser session lives on."""
    await api.append(case_id, case_opened())
    created = await api.post("/admin/api-keys", {"role": "auditor"}, role="admin")
    assert created.status_code == 201
    key_id, key = created.json()["key_id"], created.json()["key"]
    session = await _signed_in(api, key)
    assert (await _page(api, f"/ui/cases/{case_id}", session)).status_code == 200
    revoked = await api.client.delete(f"/admin/api-keys/{key_id}", headers=api.headers("admin"))
    assert revoked.status_code == 204
    assert (await _page(api, f"/ui/cases/{case_id}", session)).status_code == 303
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM ui_sessions WHERE key_id = $1", key_id) == 0


async def test_an_idle_or_expired_session_opens_nothing(api, owner_pool, case_id):
    """The clock moved on: the rows are aged as their owner (the app role may not)."""
    await api.append(case_id, case_opened())
    idle, old = await _signed_in(api, api.keys["auditor"]), await _signed_in(api, api.keys["auditor"])
    async with owner_pool.acquire() as conn:
        await conn.execute(
            "UPDATE ui_sessions SET last_seen_at = now() - interval '31 minutes' WHERE session_hash = $1",
            hashlib.sha256(idle.encode()).hexdigest(),
        )
        await conn.execute(
            "UPDATE ui_sessions SET expires_at = now() - interval '1 second' WHERE session_hash = $1",
            hashlib.sha256(old.encode()).hexdigest(),
        )
    assert (await _page(api, f"/ui/cases/{case_id}", idle)).status_code == 303
    assert (await _page(api, f"/ui/cases/{case_id}", old)).status_code == 303


async def test_the_cookie_is_scoped_to_the_pages_and_strict(api):
    response = await api.client.post("https://test/ui/sign-in", data={"key": api.keys["auditor"]})
    api.client.cookies.clear()
    cookie = response.headers["set-cookie"]
    assert "Path=/ui;" in cookie and "HttpOnly" in cookie and "Secure" in cookie
    assert "samesite=strict" in cookie.lower() and "Max-Age=28800" in cookie
