"""Sealing switched on (issue 13, item 2): over HTTP a personal value reads back in plain
text from the case's events, the feed, the history and the UI page, while no table of the
database holds it; the importer seals the same way."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

import orjson

from app.domain.policy import DEFAULT_POLICY
from app.domain.sealing import is_sealed
from app.ops.bulk_import import import_file
from app.ops.verify_bundle import check_bundle
from app.service.master_key_file import master_key_of
from app.settings import Settings
from tests.builders import case_opened, employment_ended, employment_started
from tests.integration import test_export_bundle as bundles
from tests.integration.test_sealing_store import tables_holding

trust_api = bundles.trust_api  # the app on a database of its own, with the trust routes


def _employment(employer: str, reason: str) -> list[dict]:
    """A case opened, a job with `employer` (and a personal note), the job ended for `reason`."""
    started = {**employment_started(employer=employer), "metadata": {"note": f"note about {employer}"}}
    return [
        {"event_id": str(uuid.uuid4()), "metadata": {}, **payload}
        for payload in (case_opened(), started, employment_ended(reason=reason))
    ]


def _unique(label: str) -> str:
    return f"{label} {uuid.uuid4().hex[:10]}"


async def test_an_appended_personal_value_reads_back_everywhere_and_is_stored_nowhere(api, pool, case_id):
    employer, reason = _unique("Marigold Bakery"), _unique("left to care for a parent")
    appended = await api.append(case_id, *_employment(employer, reason))
    assert appended.status_code == 201, appended.text
    first_position = appended.json()["events"][0]["position"]

    events = (await api.get(f"/cases/{case_id}/events")).json()["events"]
    assert events[1]["data"]["employer"] == employer and events[2]["data"]["reason"] == reason
    assert events[1]["metadata"]["note"] == f"note about {employer}"

    feed = await api.get("/events", role="auditor", params={"after": first_position - 1, "limit": 1000})
    mine = [e for e in feed.json()["events"] if e["case_id"] == case_id]
    assert not mine or mine[1]["data"]["employer"] == employer  # the feed may lag other sessions

    history = (await api.get(f"/cases/{case_id}/history", role="auditor")).json()["events"]
    assert history[1]["data"]["employer"] == employer and history[2]["data"]["reason"] == reason

    page = await api.client.get(f"/ui/cases/{case_id}", headers=api.headers("auditor"))
    assert page.status_code == 200 and employer in page.text and reason in page.text

    async with pool.acquire() as conn:
        assert await tables_holding(conn, employer) == []
        assert await tables_holding(conn, reason) == []


async def test_the_importer_seals_as_the_service_does(api, pool, owner_pool, tmp_path: Path):
    case_id = f"imp-{uuid.uuid4().hex[:12]}"
    employer, reason = _unique("Juniper Hardware"), _unique("moved away after an eviction")
    export = tmp_path / "sealed.ndjson"
    export.write_bytes(
        b"\n".join(orjson.dumps({"case_id": case_id, **e}) for e in _employment(employer, reason))
    )

    summary = await import_file(
        owner_pool, export, policy=DEFAULT_POLICY, master_key=master_key_of(Settings())
    )
    assert (summary.appended, summary.rejected) == (3, 0)
    again = await import_file(owner_pool, export, policy=DEFAULT_POLICY, master_key=master_key_of(Settings()))
    assert (again.appended, again.skipped, again.rejected) == (0, 3, 0)  # compared on opened values

    events = (await api.get(f"/cases/{case_id}/events")).json()["events"]
    assert events[1]["data"]["employer"] == employer and events[2]["data"]["reason"] == reason
    page = await api.client.get(f"/ui/cases/{case_id}", headers=api.headers("auditor"))
    assert page.status_code == 200 and employer in page.text
    async with pool.acquire() as conn:
        assert await tables_holding(conn, employer) == []
        assert await tables_holding(conn, reason) == []


async def test_the_export_bundle_carries_the_sealed_form_and_the_opened_values(
    trust_api, fresh, case_id, tmp_path
):
    employer, reason = _unique("Larkspur Tailoring"), _unique("stopped after a hospital stay")
    assert (await trust_api.append(case_id, *_employment(employer, reason))).status_code == 201
    public_key = await bundles._signed(fresh[1], tmp_path)
    exported = await trust_api.get(f"/cases/{case_id}/export", role="auditor")
    assert exported.status_code == 200, exported.text

    result = check_bundle(exported.content, public_key, date(2024, 6, 1))
    assert result.ok, result.findings  # the chain covers the sealed form: no key needed
    events = orjson.loads(exported.content)["events"]
    assert is_sealed(events[1]["data"]["employer"])
    assert events[1]["opened"]["data"]["employer"] == employer
    assert events[2]["opened"]["data"]["reason"] == reason
