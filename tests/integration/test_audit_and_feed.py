"""Audit replay, hash-chain verification over HTTP, and the live (long-poll) feed."""

from __future__ import annotations

import asyncio
import time

from tests.builders import (
    authorization,
    case_opened,
    employment_started,
    paid,
    retracted,
)


async def _open_with_paid_authorization(api, case_id):
    r = await api.append(
        case_id,
        case_opened(),
        employment_started(start="2024-02-01"),
        authorization("A1", "2024-02-05", "2024-03-31"),
        paid("A1", "2024-04-15"),
    )
    assert r.status_code == 201, r.text
    return r.json()["events"]


async def test_history_shows_what_each_event_changed_and_marks_retractions(api, case_id):
    events = await _open_with_paid_authorization(api, case_id)
    payment_id = events[3]["event_id"]
    assert (await api.append(case_id, retracted(payment_id, reason="keyed twice"))).status_code == 201
    response = await api.get(f"/cases/{case_id}/history", role="auditor", params={"as_of": "2024-05-01"})
    assert response.status_code == 200
    rows = response.json()["events"]
    assert [r["version"] for r in rows] == [1, 2, 3, 4, 5]
    outcome, payment, retraction = rows[1], rows[3], rows[4]
    assert outcome["clock"]["changed"]["clock_start"] == {"from": None, "to": "2024-02-01"}
    assert payment["clock"]["changed"]["clock_start"] == {"from": "2024-03-31", "to": "2024-04-15"}
    assert payment["retracted"]["reason"] == "keyed twice"
    assert payment["retracted"]["by_event_id"] == retraction["event_id"]
    assert payment["retracted"]["actor"].startswith("case_system:")
    assert retraction["clock"]["changed"]["clock_start"] == {
        "from": "2024-04-15",
        "to": "2024-03-31",
    }


async def test_history_known_at_shows_only_what_was_recorded_then(api, case_id):
    await api.append(case_id, case_opened())
    first = (await api.get(f"/cases/{case_id}/events")).json()["events"][0]["recorded_at"]
    await asyncio.sleep(0.01)
    await api.append(case_id, employment_started())
    then = await api.get(f"/cases/{case_id}/history", role="auditor", params={"known_at": first})
    assert [r["type"] for r in then.json()["events"]] == ["CaseOpened"]


async def test_verify_reports_the_first_version_whose_row_was_changed(api, owner_pool, case_id):
    await _open_with_paid_authorization(api, case_id)
    assert (await api.get(f"/cases/{case_id}/verify", role="auditor")).json()["ok"] is True
    async with owner_pool.acquire() as conn, conn.transaction():
        await conn.execute("ALTER TABLE events DISABLE TRIGGER events_append_only")
        await conn.execute(
            "UPDATE events SET data = jsonb_set(data, '{amount}', '\"5000.00\"')"
            " WHERE case_id = $1 AND version = 3",
            case_id,
        )
        await conn.execute("ALTER TABLE events ENABLE TRIGGER events_append_only")
    report = (await api.get(f"/cases/{case_id}/verify", role="auditor")).json()
    assert report["ok"] is False and report["broken_at_version"] == 3
    assert "does not match" in report["reason"]


async def test_verify_is_for_auditors_not_for_the_case_system(api, case_id):
    await api.append(case_id, case_opened())
    assert (await api.get(f"/cases/{case_id}/verify")).status_code == 403


async def test_long_poll_returns_a_new_event_within_a_second(api, case_id):
    after = 0
    while (page := (await api.get("/events", params={"after": after, "limit": 1000})).json())["events"]:
        after = page["next_after"]
    started = time.monotonic()
    waiting = asyncio.create_task(api.get("/events", params={"after": after, "wait": 10}))
    await asyncio.sleep(0.3)
    await api.append(case_id, case_opened())
    # Events of earlier tests may still become visible first (an open transaction
    # elsewhere holds the feed's horizon back); follow with long polls until ours shows.
    page = (await waiting).json()
    arrived = [e["case_id"] for e in page["events"]]
    while case_id not in arrived and time.monotonic() - started < 9:
        page = (await api.get("/events", params={"after": page["next_after"], "wait": 5})).json()
        arrived += [e["case_id"] for e in page["events"]]
    elapsed = time.monotonic() - started
    assert case_id in arrived, "the new event never reached the long-polling reader"
    # The server polls at most every 0.25 s (well under a second on a quiet server);
    # the bound only requires that the event, not the 10 s timeout, ended the wait.
    assert elapsed < 9, f"the new event took {elapsed:.2f}s to arrive"


async def test_feed_pages_in_position_order_without_repeats(api):
    cases = [f"feed-{i}-{time.monotonic_ns()}" for i in range(5)]
    for case in cases:
        await api.append(case, case_opened(), employment_started())
    positions, after = [], 0
    while True:
        page = (await api.get("/events", params={"after": after, "limit": 3})).json()
        if not page["events"]:
            break
        positions += [e["position"] for e in page["events"]]
        after = page["next_after"]
    assert positions == sorted(set(positions))
