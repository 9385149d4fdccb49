"""The offline bundle of a case whose policy table has history: two adoptions on the same
effective date (a rate corrected the same day), a retroactive one, one not signed yet, and a
case destroyed by retention. The bundle names each version by its adoption number, and
`verify-bundle` replays the clock and ledger to exactly what the service answers."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from app.domain.sealing import DESTROYED
from app.ops.checkpoint import checkpoint_once, signer_from_key_file
from app.ops.verify_bundle import check_bundle
from app.service.keys import create_key
from app.settings import Settings, get_settings
from app.store.pool import Pool
from app.store.privileges import app_role_url
from tests.conftest import Api
from tests.integration.retention_cases import pba_closed, today
from tests.integration.test_checkpoints import settled
from tests.integration.test_policy_history import RAISED, pba_case
from tests.integration.test_retention import ROW, cli

AS_OF = date(2024, 12, 31)
# The same day's correction of RAISED: the hire at 1350.00, the wait 110 days.
CORRECTED = {
    **RAISED,
    "closure_wait_days": 110,
    "milestone_rates": {**RAISED["milestone_rates"], "job_hire": "1350.00"},
}


@pytest.fixture
async def service(fresh: tuple[str, Pool]) -> AsyncIterator[tuple[Api, Any]]:
    """The service as deployed (app role, policy history, trust routes) on its own database."""
    from app.web.app import create_app

    url, pool = fresh
    app_url = app_role_url(url)
    app = create_app(Settings(database_url=app_url), database_url=app_url)
    async with pool.acquire() as conn:
        keys = {role: (await create_key(conn, role=role))[1] for role in ("case_system", "auditor", "admin")}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield Api(client, keys), app  # type: ignore[arg-type]


@pytest.fixture
def settings_cleared() -> Iterator[None]:
    """`cli` caches settings naming this test's database: forgotten afterwards."""
    yield
    get_settings.cache_clear()


async def adopt(api: Api, *rows: dict[str, Any]) -> None:
    for row in rows:
        adopted = await api.post("/policy/versions", row, role="admin")
        assert adopted.status_code == 201, adopted.text


async def sign(app: Any, pool: Pool, tmp_path: Path) -> Path:
    """What the service's interval signer does: a checkpoint of the table it answers with."""
    await settled(pool)
    signer = signer_from_key_file(
        tmp_path / "signing.key", tmp_path / "checkpoints", "caseledger.test/policy"
    )
    await checkpoint_once(pool, app.state.policies.current(), "default", signer)
    return tmp_path / "signing.key.pub"


async def replayed_as_served(api: Api, case_id: str, public_key: Path, as_of: date) -> dict[str, Any]:
    """Export the case, check it offline, and compare the replay with the service's answers;
    the bundle's document."""
    exported = await api.get(f"/cases/{case_id}/export", role="auditor")
    assert exported.status_code == 200, exported.text
    result = check_bundle(exported.content, public_key, as_of)
    assert result.ok, result.findings
    clock = (await api.get(f"/cases/{case_id}/closure-clock", params={"as_of": as_of.isoformat()})).json()
    assert result.closure_clock == {k: v for k, v in clock.items() if k not in ("case_id", "version")}
    ledger = (await api.get(f"/cases/{case_id}/ledger")).json()
    assert orjson.loads(orjson.dumps(result.ledger)) == ledger["pbas"]
    return orjson.loads(exported.content)


@pytest.mark.parametrize(
    "rows",
    [
        pytest.param((RAISED, CORRECTED), id="corrected-the-same-day"),
        pytest.param((RAISED, CORRECTED, RAISED), id="correction-undone-the-same-day"),
    ],
)
async def test_same_day_adoptions_export_by_adoption_number_and_replay_as_served(
    service: tuple[Api, Any],
    fresh: tuple[str, Pool],
    tmp_path: Path,
    rows: tuple[dict[str, Any], ...],
) -> None:
    api, app = service
    case_id = f"case-{uuid.uuid4().hex[:12]}"
    await pba_case(api, case_id)
    await adopt(api, *rows)  # retroactive: the hire (2024-02-02) is repriced, the clock moves
    public_key = await sign(app, fresh[1], tmp_path)

    document = await replayed_as_served(api, case_id, public_key, AS_OF)
    versions = document["policy"]["versions"]
    assert [v["number"] for v in versions] == list(range(1, len(rows) + 2))
    assert [v["record"]["milestone_rates"]["job_hire"] for v in versions[1:]] == [
        r["milestone_rates"]["job_hire"] for r in rows
    ]
    assert all(v["adopted_by"].startswith("admin:") for v in versions[1:])
    (pba,) = (await api.get(f"/cases/{case_id}/ledger")).json()["pbas"]
    assert [a["policy_version"] for a in pba["adjustments"]] == list(range(2, len(rows) + 2))


async def test_an_adoption_not_yet_signed_is_a_clear_problem_until_the_next_checkpoint(
    service: tuple[Api, Any], fresh: tuple[str, Pool], tmp_path: Path
) -> None:
    api, app = service
    case_id = f"case-{uuid.uuid4().hex[:12]}"
    await pba_case(api, case_id)
    await adopt(api, RAISED)
    await sign(app, fresh[1], tmp_path)
    await adopt(api, CORRECTED)

    refused = await api.get(f"/cases/{case_id}/export", role="auditor")
    assert refused.headers["content-type"].startswith("application/problem+json"), refused.text
    problem = refused.json()
    assert (refused.status_code, problem["code"]) == (404, "not_found")
    assert problem["uncovered_policy_versions"] == [3]
    assert "policy version 3" in problem["detail"] and "checkpoint" in problem["detail"]

    public_key = await sign(app, fresh[1], tmp_path)
    await replayed_as_served(api, case_id, public_key, AS_OF)


async def test_a_destroyed_case_under_a_same_day_retention_correction_still_verifies(
    service: tuple[Api, Any],
    fresh: tuple[str, Pool],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    settings_cleared: None,
) -> None:
    api, app = service
    url, pool = fresh
    await adopt(api, {**ROW, "retention_years": 3}, ROW)  # 3 years corrected to 2, same date
    case = await pba_closed(api, "old")  # closed 2024-06-01: due under 2 years, not under 3
    run = await cli(url, monkeypatch, "retention", "run")
    assert run.exit_code == 0, run.output
    assert f"destroyed {case.case_id}" in run.output, run.output
    public_key = await sign(app, pool, tmp_path)
    keys = app.state.ctx.case_keys  # a running service forgets a destroyed key after `ttl_s`: later
    keys.clock = lambda: time.monotonic() + keys.ttl_s + 1

    document = await replayed_as_served(api, case.case_id, public_key, today())
    assert [v["number"] for v in document["policy"]["versions"]] == [1, 2, 3]
    assert document["events"][-1]["type"] == "CaseRecordsDestroyed"
    assert not any(value.encode() in orjson.dumps(document) for value in case.personal)
    assert any(DESTROYED in orjson.dumps(e.get("opened", {})).decode() for e in document["events"])


async def test_the_cli_checkpoint_covers_adoptions_so_an_export_after_one_verifies(
    service: tuple[Api, Any],
    fresh: tuple[str, Pool],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    settings_cleared: None,
) -> None:
    """An operator signs with `caseledger checkpoint` (not the service's interval signer):
    the adoption made over HTTP must get its leaf, or every export after it is refused."""
    api, _ = service
    url, pool = fresh
    case_id = f"case-{uuid.uuid4().hex[:12]}"
    await pba_case(api, case_id)
    await adopt(api, RAISED)
    await settled(pool)
    key, out = tmp_path / "operator.key", tmp_path / "kept"

    signed = await cli(url, monkeypatch, "checkpoint", "--key", str(key), "--out", str(out))
    assert signed.exit_code == 0, signed.output
    document = await replayed_as_served(api, case_id, Path(f"{key}.pub"), AS_OF)
    assert [v["number"] for v in document["policy"]["versions"]] == [1, 2]

    checked = await cli(
        url, monkeypatch, "verify-checkpoints", "--checkpoints", str(out), "--public-key", f"{key}.pub"
    )
    assert checked.exit_code == 0, checked.output
