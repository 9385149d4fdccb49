"""The auditor's HTML pages: auth and escaping over httpx, and the timeline in headless Chromium.

Browser auth: Chromium's command line cannot preset a cookie and, without script, cannot
submit the sign-in form. So the test signs in for real over HTTP (POST /ui/sign-in against
the live server), checks the cookie it gets back, and a test-only ASGI wrapper in this file
adds that same `Cookie` header to each request the browser makes, as a signed-in browser
would. The app itself is unchanged and the page's session lookup is exercised;
no key ever appears in a URL.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from app.settings import REPO_ROOT
from tests.browser import Elements, chromium_binary, run_chromium
from tests.builders import (
    authorization,
    case_opened,
    employment_started,
    ev,
    milestone_authorization,
    milestone_reached,
    paid,
)

# Each run writes here (git-ignored); docs/screenshots/ keeps a copy from a run.
SCREENSHOT = REPO_ROOT / ".data" / "screenshots" / "auditor-timeline.png"
AS_OF = "2024-09-15"
HOSTILE = "<script>alert(1)</script>"


async def _rich_case(api: Any, case_id: str) -> str:
    """A closed case with a PBA, paid/partly paid/cancelled authorizations and one retraction;
    returns the retracted payment's event id."""
    wrong = str(uuid.uuid4())
    batches = [
        [
            case_opened("2024-01-02", categories=("job_coaching", "job_placement")),
            ev("PBAOpened", pba_id="pba-1", provider_id="prov-1", opened_on="2024-01-10"),
            milestone_authorization(
                "auth-plan",
                "pba-1",
                "placement_plan_signed",
                provider="prov-1",
                start="2024-01-10",
                end="2024-02-29",
                amount="1000.00",
            ),
            milestone_reached(
                "pba-1",
                "placement_plan_signed",
                "2024-01-24",
                "auth-plan",
                signed_by=["consumer", "provider", "vr_staff"],
                face_to_face=True,
            ),
            paid("auth-plan", "2024-02-07", "1000.00"),
            milestone_authorization(
                "auth-hire",
                "pba-1",
                "job_hire",
                provider="prov-1",
                start="2024-01-24",
                end="2024-03-29",
                amount="1300.00",
            ),
            employment_started("j1", "2024-02-12"),
            milestone_reached(
                "pba-1",
                "job_hire",
                "2024-02-16",
                "auth-hire",
                job_id="j1",
                first_paid_shift_on="2024-02-12",
                placement_type="individual",
                provider_is_employer=False,
                job_source="pba",
            ),
            paid("auth-hire", "2024-03-08", "1300.00"),
        ],
        [
            authorization("coach-1", "2024-02-12", "2024-04-30", provider="prov-2", amount="800.00"),
            paid("coach-1", "2024-03-15", "400.00", in_full=False),
            authorization("coach-2", "2024-03-01", "2024-03-31", provider="prov-2", amount="300.00"),
            ev("AuthorizationCancelled", authorization_id="coach-2", cancelled_on="2024-03-12"),
            {**paid("coach-1", "2024-04-05", "800.00"), "event_id": wrong},
        ],
        [
            ev(
                "EventRetracted",
                retracted_event_id=wrong,
                reason="keyed against the wrong authorization",
            ),
            ev("IPEAmended", amended_on="2024-04-22", service_categories_added=["transportation"]),
            authorization(
                "pes-1",
                "2024-05-01",
                "2024-05-31",
                provider="prov-3",
                category="transportation",
                amount="250.00",
                post_employment=True,
            ),
            paid("pes-1", "2024-05-20", "250.00"),
            milestone_authorization(
                "auth-sp",
                "pba-1",
                "successful_placement",
                provider="prov-1",
                start="2024-05-01",
                end="2024-12-31",
                amount="1500.00",
            ),
            milestone_reached("pba-1", "successful_placement", "2024-08-20", "auth-sp"),
            ev("CaseClosed", closed_on="2024-08-30", outcome="successful"),
            paid("auth-sp", "2024-09-10", "1500.00"),
        ],
    ]
    for batch in batches:
        response = await api.append(case_id, *batch)
        assert response.status_code == 201, response.text
    return wrong


# --- plain HTTP (no browser) -------------------------------------------------------------


async def test_a_page_without_a_key_redirects_to_sign_in(api, case_id):
    await api.append(case_id, case_opened())
    response = await api.client.get(f"/ui/cases/{case_id}?as_of=2024-03-01")
    assert response.status_code == 303
    assert response.headers["location"] == (
        f"/ui/sign-in?next=%2Fui%2Fcases%2F{case_id}%3Fas_of%3D2024-03-01"
    )
    form = await api.client.get(response.headers["location"])
    assert form.status_code == 200 and 'name="key"' in form.text and 'type="password"' in form.text
    assert f'value="/ui/cases/{case_id}?as_of=2024-03-01"' in form.text


async def test_a_provider_key_is_forbidden(api, pool, case_id):
    await api.append(case_id, case_opened())
    key = await api.key_for(pool, "provider", provider_id="prov-1")
    response = await api.client.get(f"/ui/cases/{case_id}", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    signed = await api.client.post("/ui/sign-in", data={"key": key})
    assert signed.status_code == 403 and "set-cookie" not in signed.headers


async def test_sign_in_gives_a_session_cookie_scoped_to_the_pages(api, case_id):
    await api.append(case_id, case_opened())
    try:
        response = await api.client.post(
            "/ui/sign-in", data={"key": api.keys["auditor"], "next": f"/ui/cases/{case_id}"}
        )
        assert response.status_code == 303
        assert response.headers["location"] == f"/ui/cases/{case_id}"
        cookie = response.headers["set-cookie"]
        assert cookie.startswith("caseledger_session=") and api.keys["auditor"] not in cookie
        assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower() and "Path=/ui;" in cookie
        assert "Max-Age=28800" in cookie and "Secure" not in cookie
        page = await api.client.get(f"/ui/cases/{case_id}")  # the client's jar sends the cookie
        assert page.status_code == 200 and f"Case {case_id}" in page.text
        out = await api.client.post("/ui/sign-out")
        assert out.status_code == 303 and 'caseledger_session=""' in out.headers["set-cookie"]
        assert "Max-Age=0" in out.headers["set-cookie"]
    finally:
        api.client.cookies.clear()


async def test_sign_in_refuses_bad_keys_foreign_origins_and_open_redirects(api):
    try:
        bad = await api.client.post("/ui/sign-in", data={"key": "cl_not-a-key"})
        assert bad.status_code == 401 and "set-cookie" not in bad.headers
        assert "unknown or revoked" in bad.text
        foreign = await api.client.post(
            "/ui/sign-in",
            data={"key": api.keys["auditor"]},
            headers={"Origin": "https://evil.example"},
        )
        assert foreign.status_code == 403 and "set-cookie" not in foreign.headers
        elsewhere = await api.client.post(
            "/ui/sign-in", data={"key": api.keys["auditor"], "next": "https://evil.example/ui/x"}
        )
        assert elsewhere.status_code == 303 and elsewhere.headers["location"] == "/ui/"
        secure = await api.client.post("https://test/ui/sign-in", data={"key": api.keys["auditor"]})
        assert "Secure" in secure.headers["set-cookie"]
    finally:
        api.client.cookies.clear()


async def test_values_from_events_are_html_escaped(api, case_id):
    hostile_job = {
        **employment_started("j1", "2024-02-01"),
        "data": {**employment_started("j1", "2024-02-01")["data"], "employer": HOSTILE},
    }
    response = await api.append(
        case_id,
        case_opened(),
        hostile_job,
        ev(
            "EmploymentEnded",
            job_id="j1",
            end_date="2024-03-01",
            reason='quit "abruptly" & <b>left</b>',
        ),
    )
    assert response.status_code == 201, response.text
    page = await api.get(f"/ui/cases/{case_id}", role="auditor")
    assert page.status_code == 200
    assert HOSTILE not in page.text and "<script" not in page.text and "<b>left" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "quit &quot;abruptly&quot; &amp; &lt;b&gt;left&lt;/b&gt;" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"


async def test_unknown_case_and_bad_dates_answer_html(api, case_id):
    missing = await api.get(f"/ui/cases/{case_id}", role="auditor")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    await api.append(case_id, case_opened())
    bad = await api.get(f"/ui/cases/{case_id}?as_of=yesterday", role="auditor")
    assert bad.status_code == 422 and "as_of" in bad.text
    empty = await api.get(f"/ui/cases/{case_id}?as_of=&known_at=", role="admin")
    assert empty.status_code == 200


async def test_find_a_case_redirects_to_its_timeline(api, case_id):
    index = await api.get("/ui/", role="auditor")
    assert index.status_code == 200 and 'action="/ui/cases"' in index.text
    found = await api.get("/ui/cases", role="auditor", params={"case_id": f" {case_id} "})
    assert found.status_code == 303 and found.headers["location"] == f"/ui/cases/{case_id}"
    bad = await api.get("/ui/cases", role="auditor", params={"case_id": "../../etc"})
    assert bad.status_code == 422


async def test_known_at_shows_the_case_as_it_was_known(api, case_id):
    await _rich_case(api, case_id)
    stream = (await api.get(f"/cases/{case_id}/events", role="auditor")).json()["events"]
    known_at = stream[13]["recorded_at"]  # v14, the wrong payment, before its retraction (v15)
    then = await api.get(
        f"/ui/cases/{case_id}", role="auditor", params={"known_at": known_at, "as_of": "2024-04-10"}
    )
    assert then.status_code == 200
    assert 'data-version="14"' in then.text and 'data-version="15"' not in then.text
    assert 'data-retracted="yes"' not in then.text
    now = await api.get(f"/ui/cases/{case_id}", role="auditor", params={"as_of": "2024-04-10"})
    assert now.text.count('<tr id="v') == 22 and 'data-retracted="yes"' in now.text


async def test_the_timeline_in_headless_chromium(api, case_id, live_server):
    binary = chromium_binary()
    if binary is None:
        pytest.skip("no chromium binary found (apt-get install chromium, or set CHROMIUM_BIN)")
    base, browser = live_server
    await _rich_case(api, case_id)
    async with httpx.AsyncClient(base_url=base) as client:
        signed = await client.post("/ui/sign-in", data={"key": api.keys["auditor"]})
        assert signed.status_code == 303 and "HttpOnly" in signed.headers["set-cookie"]
        browser.cookie = f"caseledger_session={signed.cookies['caseledger_session']}".encode()
    url = f"{base}/ui/cases/{case_id}?as_of={AS_OF}"

    started = time.monotonic()
    dom = run_chromium(binary, "--dump-dom", url)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    run_chromium(binary, f"--screenshot={SCREENSHOT}", "--window-size=1400,1900", url)
    elapsed = time.monotonic() - started

    page = Elements()
    page.feed(dom)
    assert len(page.having(data_kind="auth-paid")) == 4  # plan, hire, pes-1, successful placement
    assert len(page.having(data_kind="auth-unpaid")) == 1  # coach-1, partly paid
    assert len(page.having(data_kind="auth-cancelled")) == 1  # coach-2
    assert len(page.having(data_kind="job")) == 1 and len(page.having(data_kind="milestone")) == 3
    assert page.having(data_rule="clock-start", data_date="2024-05-20")
    assert page.having(data_rule="eligible", data_date="2024-08-18")
    assert page.having(data_rule="closed", data_date="2024-08-30")
    assert page.having(data_rule="as-of", data_date=AS_OF)
    rows = [a for tag, a in page.found if tag == "tr" and "data-version" in a]
    assert [int(a["data-version"]) for a in rows] == list(range(1, 23))
    assert "retracted" in rows[13]["class"]  # v14, the payment keyed against the wrong authorization
    assert page.having(data_version="14", data_retracted="yes", data_kind="pay-full")
    assert page.having(data_kind="pay-partial") and page.having(data_kind="cancel")
    assert SCREENSHOT.stat().st_size > 20_000
    assert elapsed < 60, f"chromium took {elapsed:.1f}s"
