"""Attacks on what a response says (issue 14, item 6): a Host header copied into a
redirect, case data left in caches, and text that reorders itself on the auditor page."""

from __future__ import annotations

import uuid

from tests.builders import case_opened, employment_started, ev

INVISIBLE = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200b\u200c\u200d\u200e\u200f\u2060\ufeff"


async def test_a_forged_host_header_never_reaches_a_redirect(api, case_id):
    """Attack: `curl -H 'Host: evil.example' .../ui/cases/X/` used to answer
    `location: http://evil.example/ui/cases/X`, without a key."""
    await api.append(case_id, case_opened())
    forged = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    for path in (f"/ui/cases/{case_id}/", f"/ui/cases/{case_id}", "/ui", "/ui/", f"/cases/{case_id}/events/"):
        for headers in (forged, {**forged, **api.headers("auditor")}):
            response = await api.client.get(path, headers=headers)
            location = response.headers.get("location", "")
            assert "evil.example" not in location, (path, location)
            assert not location or (location.startswith("/") and not location.startswith("//"))
    signed = await api.client.post("/ui/sign-in", data={"key": api.keys["auditor"]}, headers=forged)
    api.client.cookies.clear()
    assert signed.status_code == 303 and signed.headers["location"] == "/ui/"


async def test_every_answer_with_case_data_says_no_store(api, case_id):
    """Attack: read a case's data back from a shared proxy's or the browser's cache."""
    opened = await api.append(case_id, case_opened())
    assert opened.headers["cache-control"] == "no-store"
    paths = [
        f"/cases/{case_id}/events",
        f"/cases/{case_id}/closure-clock",
        f"/cases/{case_id}/ledger",
        f"/cases/{case_id}/history",
        f"/cases/{case_id}/verify",
        "/closure-clock/worklist",
        "/providers/prov-1/ledger",
        "/events?limit=1",
        f"/ui/cases/{case_id}",
        "/ui/",
        f"/cases/{uuid.uuid4().hex}/history",  # a 404 problem
        "/healthz",
    ]
    for path in paths:
        response = await api.get(path, role="admin")
        assert response.status_code in (200, 404), (path, response.text)
        assert response.headers["cache-control"] == "no-store", path
    unauthorized = await api.client.get(f"/cases/{case_id}/history")
    assert unauthorized.headers["cache-control"] == "no-store"


async def test_bidi_overrides_and_zero_width_characters_are_shown_not_obeyed(api, case_id):
    """Attack: an employer named with a right-to-left override displays as another text
    (`Acme\u202eSOOF` reads `AcmeFOOS`); zero-width characters hide in a case number."""
    job = employment_started("j1", "2024-02-01")
    job["data"]["employer"] = f"Acme{INVISIBLE}Foods"
    ended = ev("EmploymentEnded", job_id="j1", end_date="2024-03-01", reason="moved\u202eevol")
    assert (await api.append(case_id, case_opened(), job, ended)).status_code == 201
    page = await api.get(f"/ui/cases/{case_id}", role="auditor")
    assert page.status_code == 200
    assert not any(c in page.text for c in INVISIBLE)
    assert "Acme⟨U+202A⟩⟨U+202B⟩⟨U+202C⟩⟨U+202D⟩⟨U+202E⟩" in page.text
    assert "⟨U+200B⟩⟨U+200C⟩⟨U+200D⟩⟨U+200E⟩⟨U+200F⟩⟨U+2060⟩⟨U+FEFF⟩Foods" in page.text
    assert "moved⟨U+202E⟩evol" in page.text
    # The JSON API keeps the stored text exactly: only the page shows it escaped.
    stored = (await api.get(f"/cases/{case_id}/events", role="auditor")).json()["events"]
    assert stored[1]["data"]["employer"] == f"Acme{INVISIBLE}Foods"
