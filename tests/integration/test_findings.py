"""The auditor's desk (issue 15): history imported as it happened, findings, samples."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.domain.policy import DEFAULT_POLICY
from app.ops.bulk_import import import_file
from app.ops.sample import case_events
from app.service.keys import create_key
from app.settings import Settings
from app.store.db import create_pool
from app.store.pool import Pool
from app.store.privileges import app_role_url
from app.web.routes import findings as findings_routes
from app.web.ui.findings_page import case_findings_link
from tests.browser import Elements, chromium_binary, run_chromium
from tests.builders import import_line
from tests.conftest import Api


async def desk_api(database_url: str, pool: Pool) -> AsyncIterator[Api]:
    """The app with the findings routes included (as `app.web.app` will register them)."""
    from app.web.app import create_app

    url = app_role_url(database_url)
    app = create_app(Settings(database_url=url), database_url=url)
    app.include_router(findings_routes.router)
    keys = {}
    async with pool.acquire() as conn:
        for role in ("case_system", "auditor", "admin"):
            keys[role] = (await create_key(conn, role=role))[1]  # type: ignore[arg-type]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield Api(client, keys)


def _line(case_id: str, event: dict[str, Any]) -> tuple[str, bytes]:
    """An export line of a legacy system, with the event id it was given."""
    event_id = str(uuid.uuid4())
    return event_id, import_line(case_id, event, event_id, source="legacy")


def _with(event: dict[str, Any], **data: Any) -> dict[str, Any]:
    return {"type": event["type"], "data": {**event["data"], **data}}


def _export() -> tuple[list[bytes], dict[str, str]]:
    """Four cases, each with one line the API refuses; returns the lines and {event_id: case}."""
    e1, e2, e3, e4 = (case_events(n) for n in (1, 2, 3, 4))
    early = date.fromisoformat(e1[5]["data"]["start_date"]) + timedelta(days=10)
    streams = {
        "AUD-EARLY": [*e1[:11], _with(e1[13], closed_on=early.isoformat())],
        "AUD-UNAUTH": [
            *e2[:3],
            _with(e2[3], authorization_id="a-nowhere"),
            _with(e2[9], authorization_id="b-nowhere"),
        ],
        "AUD-TWICE": [*e3[:4], e3[3]],
        "AUD-IPE": [*e4[:6], _with(e4[7], service_category="transportation", authorization_id="pes-x")],
    }
    lines, breaking = [], {}
    for case_id, events in streams.items():
        for k, event in enumerate(events):
            event_id, line = _line(case_id, event)
            lines.append(line)
            if (case_id, k) in {
                ("AUD-EARLY", 11),
                ("AUD-UNAUTH", 3),
                ("AUD-UNAUTH", 4),
                ("AUD-TWICE", 4),
                ("AUD-IPE", 6),
            }:
                breaking[event_id] = case_id
    return lines, breaking


async def test_an_export_that_breaks_the_rules_imports_completely_with_findings(
    fresh: tuple[str, Pool], tmp_path: Path
) -> None:
    url, pool = fresh
    lines, breaking = _export()
    export = tmp_path / "legacy.ndjson"
    export.write_bytes(b"\n".join(lines) + b"\n")
    summary = await import_file(pool, export, batch_size=5, policy=DEFAULT_POLICY)
    assert (summary.appended, summary.rejected) == (len(lines), 0)

    async for api in desk_api(url, pool):
        found = (await api.get("/findings?limit=500", role="auditor")).json()["findings"]
        imported = {f["event_ids"][0]: f for f in found if f["source"] == "import"}
        assert imported.keys() == breaking.keys()
        assert {f["case_id"] for f in imported.values()} == set(breaking.values())
        assert all(f["rule"] and f["history"] == f"/cases/{f['case_id']}/history" for f in found)
        rules = {f["case_id"]: f["rule"] for f in imported.values()}
        assert rules["AUD-IPE"] == "pes_category_not_on_ipe"
        assert rules["AUD-TWICE"] == "milestone_already_earned"
        clock = (await api.get("/cases/AUD-EARLY/closure-clock")).json()
        assert clock["status"] == "closed"  # the case reads closed, as in the case system
        ledger = (await api.get("/cases/AUD-TWICE/ledger")).json()
        assert ledger["refused_claims"] == []  # recorded as a fact, not as a refused claim
        one_rule = (await api.get("/findings?rule=pes_category_not_on_ipe", role="auditor")).json()
        assert [f["case_id"] for f in one_rule["findings"]] == ["AUD-IPE"]
        first = await api.get("/findings?limit=2", role="auditor")
        rest = await api.get(f"/findings?limit=500&cursor={first.json()['next_cursor']}", role="auditor")
        assert first.json()["findings"] + rest.json()["findings"] == found
        bad = await api.get("/findings?cursor=nonsense", role="auditor")
        assert bad.status_code == 422 and bad.json()["code"] == "invalid_request"
        assert (await api.get("/findings")).status_code == 403  # a case-system key

        html = (await api.get("/ui/findings", role="auditor")).text
        for f in imported.values():
            assert f["case_id"] in html and f["rule"] in html
        case_page = (await api.get("/ui/cases/AUD-IPE", role="auditor")).text
        assert '<a href="/ui/findings?case_id=AUD-IPE">' in case_page  # linked from the case page

        # The API keeps refusing what the import recorded.
        again = _with(case_events(3)[3])
        refused = await api.append("AUD-TWICE", again)
        assert refused.status_code == 409 and refused.json()["rule"] == "milestone_already_earned"


async def test_the_same_seed_draws_the_same_sample(fresh: tuple[str, Pool], tmp_path: Path) -> None:
    url, pool = fresh
    lines = [_line(f"SMP-{n:03d}", e)[1] for n in range(30) for e in case_events(n)[:6]]
    export = tmp_path / "sample.ndjson"
    export.write_bytes(b"\n".join(lines) + b"\n")
    await import_file(pool, export, policy=DEFAULT_POLICY)
    async for api in desk_api(url, pool):
        draw = [(await api.get("/audit/sample?size=5&seed=s1", role="auditor")).json() for _ in range(2)]
        other = (await api.get("/audit/sample?size=5&seed=s2", role="auditor")).json()
    cases = [[c["case_id"] for c in d["cases"]] for d in draw]
    assert cases[0] == cases[1] and len(cases[0]) == 5
    assert [c["case_id"] for c in other["cases"]] != cases[0]


async def test_the_findings_page_in_headless_chromium(
    database_url: str,
    api: Api,
    live_server: Any,  # the fixture of tests.browser
    tmp_path: Path,
) -> None:
    binary = chromium_binary()
    if binary is None:
        pytest.skip("no chromium binary found (apt-get install chromium, or set CHROMIUM_BIN)")
    base, browser = live_server
    tag = uuid.uuid4().hex[:8].upper()
    lines, _ = _export()
    export = tmp_path / "legacy.ndjson"
    export.write_bytes(b"\n".join(ln.replace(b'"AUD-', f'"{tag}-'.encode()) for ln in lines) + b"\n")
    owner = await create_pool(database_url, min_size=1, max_size=3)
    try:
        assert (await import_file(owner, export, batch_size=7, policy=DEFAULT_POLICY)).rejected == 0
        async with owner.acquire() as conn:
            assert "findings for this case" in await case_findings_link(conn, f"{tag}-IPE", date.today())
            assert await case_findings_link(conn, "no-such-case", date.today()) == ""
    finally:
        await owner.close()
    async with httpx.AsyncClient(base_url=base) as client:
        signed = await client.post("/ui/sign-in", data={"key": api.keys["auditor"]})
        browser.cookie = f"caseledger_session={signed.cookies['caseledger_session']}".encode()

    dom = Elements()
    dom.feed(run_chromium(binary, "--dump-dom", f"{base}/ui/findings"))
    rules = {a["data-rule"] for _, a in dom.found if "data-rule" in a}
    for rule in ("pes_category_not_on_ipe", "milestone_already_earned", "not_eligible_for_closure"):
        assert rule in rules
    one = Elements()
    one.feed(
        run_chromium(
            binary, "--dump-dom", f"{base}/ui/findings?rule=pes_category_not_on_ipe&case_id={tag}-IPE"
        )
    )
    rows = [a for tag_, a in one.found if tag_ == "tr" and "data-rule" in a]
    assert [a["data-rule"] for a in rows] == ["pes_category_not_on_ipe"]
    assert one.having(href=f"/ui/cases/{tag}-IPE") and one.having(href=f"/cases/{tag}-IPE/history")


def test_the_cli_lists_the_findings_as_csv(
    fresh: tuple[str, Pool], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import typer
    from typer.testing import CliRunner

    from app.cli import bulk
    from app.cli import findings as findings_cli
    from app.settings import get_settings

    url, _ = fresh
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    cli = typer.Typer()
    for module in (bulk, findings_cli):  # as app.cli.main will register them
        module.register(cli)
    lines, breaking = _export()
    export = tmp_path / "legacy.ndjson"
    export.write_bytes(b"\n".join(lines) + b"\n")
    runner = CliRunner()
    imported = runner.invoke(cli, ["import", str(export), "--workers", "1"])
    assert imported.exit_code == 0, imported.output
    listed = runner.invoke(cli, ["findings", "--csv"])
    get_settings.cache_clear()
    assert listed.exit_code == 0, listed.output
    rows = list(csv.DictReader(io.StringIO(listed.output)))
    imported_rows = {r["event_ids"]: r for r in rows if r["source"] == "import"}
    assert imported_rows.keys() == breaking.keys()
    assert all(r["history"] == f"/cases/{r['case_id']}/history" for r in rows)
