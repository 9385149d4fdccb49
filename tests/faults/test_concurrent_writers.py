"""50 concurrent writers through HTTP, on one case and on many: 0 lost, 0 duplicated.

Every acknowledged event_id is compared with the stored stream (case, version,
position); every conflict with `expected_version` is a 409 `version_conflict`
that carries the current version; without `expected_version` every append
succeeds. Afterwards each stream's hash chain verifies and its read models equal
a fold of the stream from scratch.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from typing import Any

import httpx

from app.domain.policy import DEFAULT_POLICY
from faults.common import Ledger, check_store, read_model_drift
from tests.builders import authorization, case_opened, employment_started

WRITERS = 50
PROBLEM = "application/problem+json"


def logical(event: dict[str, Any]) -> dict[str, Any]:
    """The event with a client-chosen event_id and a load_id that marks the logical append."""
    return {**event, "event_id": str(uuid.uuid4()), "metadata": {"load_id": uuid.uuid4().hex}}


def version_conflict(r: httpx.Response, expected: int) -> int:
    assert r.status_code == 409, r.text
    assert r.headers["content-type"].startswith(PROBLEM), r.headers
    body = r.json()
    assert body["code"] == "version_conflict", body
    current = body["current_version"]
    assert isinstance(current, int) and current > expected, body
    return current


async def append_until_accepted(
    api: Any,
    case_id: str,
    event: dict[str, Any],
    expected: int,
    ledger: Ledger,
    conflicts: list[tuple[int, int]],
) -> int:
    """Optimistic concurrency as a client does it: on 409, retry at the version it names."""
    for _ in range(WRITERS * 4):
        r = await api.append(case_id, event, expected_version=expected)
        if r.status_code == 201:
            body = r.json()
            assert body["version"] == expected + 1 and not body["idempotent_replay"], body
            ledger.record(body, [event["metadata"]["load_id"]])
            return body["version"]
        current = version_conflict(r, expected)
        conflicts.append((expected, current))
        expected = current
    raise AssertionError(f"writer on {case_id} never got through")


async def check_case_stores(api: Any, pool: Any, ledger: Ledger, case_ids: list[str]) -> None:
    async with pool.acquire() as conn:
        result = await check_store(conn, ledger, case_ids)
        assert result.ok, result.summary()
        assert result.stored == result.acknowledged, result.summary()
        assert await read_model_drift(conn, case_ids, DEFAULT_POLICY) == {}
    for case_id in case_ids:
        r = await api.get(f"/cases/{case_id}/verify", role="auditor")
        assert r.status_code == 200 and r.json()["ok"], r.text


async def open_case(api: Any, case_id: str, ledger: Ledger) -> None:
    event = logical(case_opened())
    r = await api.append(case_id, event, expected_version=0)
    assert r.status_code == 201, r.text
    ledger.record(r.json(), [event["metadata"]["load_id"]])


async def test_50_writers_with_expected_version_on_one_case(api, pool, case_id):
    ledger, conflicts = Ledger(), []
    await open_case(api, case_id, ledger)
    events = [logical(authorization(f"a-{i}", "2024-01-05", "2024-02-05")) for i in range(WRITERS)]
    # every writer starts from version 1: exactly one wins each round, the rest are told
    # the version that beat them and go again from there
    versions = await asyncio.gather(
        *(append_until_accepted(api, case_id, e, 1, ledger, conflicts) for e in events)
    )

    assert sorted(versions) == list(range(2, WRITERS + 2))
    assert conflicts, "50 writers from the same version must have conflicted"
    # the first round: every loser of version 2 is told the case is at 2
    # one writer got version 2 from version 1; every other one was told a version that exists
    first_round = [current for expected, current in conflicts if expected == 1]
    assert len(first_round) == WRITERS - 1
    assert all(expected < current <= WRITERS + 1 for expected, current in conflicts)
    await check_case_stores(api, pool, ledger, [case_id])
    r = await api.get(f"/cases/{case_id}/ledger")
    assert r.status_code == 200


async def test_50_writers_without_expected_version_on_one_case_all_succeed(api, pool, case_id):
    ledger = Ledger()
    await open_case(api, case_id, ledger)
    events = [logical(authorization(f"a-{i}", "2024-01-05", "2024-02-05")) for i in range(WRITERS)]
    responses = await asyncio.gather(*(api.append(case_id, e) for e in events))

    assert [r.status_code for r in responses] == [201] * WRITERS, [
        r.text for r in responses if r.status_code != 201
    ][:3]
    for event, r in zip(events, responses, strict=True):
        ledger.record(r.json(), [event["metadata"]["load_id"]])
    assert sorted(r.json()["version"] for r in responses) == list(range(2, WRITERS + 2))
    await check_case_stores(api, pool, ledger, [case_id])


async def test_50_writers_on_10_cases_mixed_expected_version(api, pool):
    """Each writer appends 6 times to cases drawn at random, half of them with the version it
    last saw (often stale), half without; employment and authorizations move the clock."""
    rng = random.Random(6)
    case_ids = [f"fault-many-{uuid.uuid4().hex[:10]}-{n}" for n in range(10)]
    ledger, conflicts = Ledger(), []
    await asyncio.gather(*(open_case(api, c, ledger) for c in case_ids))
    seen = dict.fromkeys(case_ids, 1)
    plan = [[(rng.choice(case_ids), rng.random() < 0.5) for _ in range(6)] for _ in range(WRITERS)]
    unconditional_refusals: list[str] = []

    async def writer(w: int) -> None:
        for k, (case_id, conditional) in enumerate(plan[w]):
            if k == 0:
                event = logical(employment_started(f"j-{w}", "2024-02-01"))
            else:
                event = logical(authorization(f"a-{w}-{k}", "2024-02-01", f"2024-03-{k + 10:02d}"))
            if conditional:
                seen[case_id] = await append_until_accepted(
                    api, case_id, event, seen[case_id], ledger, conflicts
                )
            else:
                r = await api.append(case_id, event)
                if r.status_code != 201:
                    unconditional_refusals.append(r.text)
                    continue
                ledger.record(r.json(), [event["metadata"]["load_id"]])
                seen[case_id] = max(seen[case_id], r.json()["version"])
            await asyncio.sleep(0)

    await asyncio.gather(*(writer(w) for w in range(WRITERS)))

    assert unconditional_refusals == []
    assert len(ledger.acknowledged) == 10 + WRITERS * 6
    assert conflicts
    await check_case_stores(api, pool, ledger, case_ids)
    # the global feed holds each acknowledged event once, in position order. It shows an
    # event once no older transaction can still commit before it (the cluster's xmin), so
    # on a shared server another database's open transaction can delay it: poll, bounded.
    ours: dict[str, int] = {}
    after = min(a.position for a in ledger.acknowledged.values()) - 1
    deadline = time.monotonic() + 30
    while len(ours) < len(ledger.acknowledged) and time.monotonic() < deadline:
        r = await api.get("/events", params={"after": after, "limit": 1000, "wait": 1})
        assert r.status_code == 200, r.text
        page = r.json()
        for e in page["events"]:
            if e["case_id"] in case_ids:
                assert e["event_id"] not in ours, f"feed gave {e['event_id']} twice"
                ours[e["event_id"]] = e["position"]
        after = page["next_after"]
    assert sorted(ours) == sorted(ledger.acknowledged)
    assert all(ours[i] == a.position for i, a in ledger.acknowledged.items())
