"""What is stored is what is hashed: numbers jsonb rewrites never plant a false break,
and `verify` names every broken version of a case."""

from __future__ import annotations

import orjson
import pytest

from tests.builders import case_opened, employment_started, ipe_amended

# Spelled as a client spells them: raw JSON text, not Python's re-encoding.
AWKWARD_METADATA = (
    '{"neg_zero": -0.0, "big": 1e16, "one": 1.0, "hundred": 1E2, "huge_int": 12345678901234567890,'
    ' "tiny": 1.5e-7, "far": 1e300, "nested": [{"x": -0.0, "y": [2.5e20]}],'
    ' "\u00e9t\u00e9": "\u6f22\u5b57", "\\u00fcber": {"\u00f1": -1e16}}'
)


async def _post_raw(api, case_id: str, events_json: str):
    body = '{"events": [' + events_json + "]}"
    headers = {**api.headers("case_system"), "content-type": "application/json"}
    return await api.client.post(f"/cases/{case_id}/events", content=body.encode(), headers=headers)


async def test_numbers_jsonb_would_rewrite_verify_ok_in_data_and_metadata(api, case_id):
    opened = orjson.dumps(case_opened()).decode()[:-1] + f', "metadata": {AWKWARD_METADATA}}}'
    r = await _post_raw(api, case_id, opened)
    assert r.status_code == 201, r.text
    amended = orjson.dumps(ipe_amended("2024-02-01")).decode()[:-1] + f', "metadata": {AWKWARD_METADATA}}}'
    assert (await _post_raw(api, case_id, amended)).status_code == 201
    started = employment_started("2024-02-05")
    assert (await api.append(case_id, {**started, "metadata": {"n": -0.0, "m": 1e16}})).status_code == 201
    verdict = (await api.get(f"/cases/{case_id}/verify", role="auditor")).json()
    assert verdict["ok"] is True and verdict["broken_versions"] == [], verdict
    stored = (await api.get(f"/cases/{case_id}/events")).json()["events"][0]["metadata"]
    assert stored["big"] == 10**16 and stored["neg_zero"] == 0.0 and stored["über"] == {"ñ": -(10**16)}


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity"])
async def test_a_number_that_cannot_round_trip_is_refused(api, case_id, number):
    opened = orjson.dumps(case_opened()).decode()[:-1] + f', "metadata": {{"n": {number}}}}}'
    r = await _post_raw(api, case_id, opened)
    assert r.status_code in (400, 422), r.text
    assert (await api.get(f"/cases/{case_id}/events")).status_code == 404


async def test_verify_names_every_tampered_version(api, owner_pool, case_id):
    events = [
        case_opened(),
        ipe_amended("2024-02-01"),
        employment_started("2024-02-05"),
        ipe_amended("2024-03-01"),
    ]
    for event in events:
        assert (await api.append(case_id, event)).status_code == 201
    async with owner_pool.acquire() as conn, conn.transaction():
        await conn.execute("ALTER TABLE events DISABLE TRIGGER ALL")
        await conn.execute(
            "UPDATE events SET metadata = metadata || '{\"edited\": true}'"
            " WHERE case_id = $1 AND version = ANY('{2,4}'::int[])",
            case_id,
        )
        await conn.execute("ALTER TABLE events ENABLE TRIGGER ALL")
    verdict = (await api.get(f"/cases/{case_id}/verify", role="auditor")).json()
    assert verdict["ok"] is False
    assert verdict["broken_at_version"] == 2 and verdict["broken_versions"] == [2, 4]
