"""An auditor exports a case over HTTP and checks it with nothing but the public key."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import httpx
import orjson
import pytest

from app.domain.checkpoint import verify_signed_checkpoint
from app.domain.merkle import verify_consistency, verify_inclusion
from app.domain.merkle_leaves import event_leaf_hash
from app.ops.checkpoint import checkpoint_once, signer_from_key_file
from app.ops.verify_bundle import check_bundle
from app.service.checkpoint_keys import load_verifier_key_file
from app.settings import Settings
from app.store.pool import Pool
from app.web.routes import trust
from tests.conftest import Api
from tests.integration.test_checkpoints import settled
from tests.integration.test_ledger_http import pba_case

ORIGIN = "caseledger.test/ledger"
AS_OF = date(2024, 6, 1)


@pytest.fixture
async def trust_api(fresh: tuple[str, Pool]) -> AsyncIterator[Api]:
    """The app with the trust routes (registered here until app.web.app includes them), on a
    database of its own: every checkpoint in it is signed by this test's key."""
    from app.service.keys import create_key
    from app.web.app import create_app

    database_url, pool = fresh
    app = create_app(Settings(database_url=database_url), database_url=database_url)
    if not any(getattr(r, "path", "") == "/checkpoints/latest" for r in app.routes):
        app.include_router(trust.router)
    async with pool.acquire() as conn:
        keys = {role: (await create_key(conn, role=role))[1] for role in ("case_system", "auditor")}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield Api(client, keys)  # type: ignore[arg-type]


async def _signed(pool: Pool, tmp_path: Path) -> Path:
    """Sign a checkpoint into tmp_path/checkpoints; the public key file."""
    await settled(pool)
    signer = signer_from_key_file(tmp_path / "signing.key", tmp_path / "checkpoints", ORIGIN)
    await checkpoint_once(pool, Settings().policy_table(), Settings().policy_id(), signer)
    return tmp_path / "signing.key.pub"


async def test_an_exported_case_checks_out_offline_and_replays_to_the_services_answers(
    trust_api: Api, fresh: tuple[str, Pool], case_id: str, tmp_path: Path
) -> None:
    await pba_case(trust_api, case_id, "prov-bundle")
    public_key = await _signed(fresh[1], tmp_path)
    exported = await trust_api.get(f"/cases/{case_id}/export", role="auditor")
    assert exported.status_code == 200, exported.text
    assert exported.headers["caseledger-uncovered-events"] == "0"
    bundle = tmp_path / "case.bundle.json"
    bundle.write_bytes(exported.content)

    result = check_bundle(bundle.read_bytes(), public_key, AS_OF)
    assert result.ok, result.findings
    clock = (
        await trust_api.get(f"/cases/{case_id}/closure-clock", params={"as_of": AS_OF.isoformat()})
    ).json()
    served = {k: v for k, v in clock.items() if k not in ("case_id", "version")}
    assert result.closure_clock == served
    ledger = (await trust_api.get(f"/cases/{case_id}/ledger")).json()
    assert orjson.loads(orjson.dumps(result.ledger)) == ledger["pbas"]
    assert len(ledger["pbas"]) == 1 and ledger["pbas"][0]["earned"] == "2300.00"


async def test_a_bundle_with_one_byte_changed_is_refused(
    trust_api: Api, fresh: tuple[str, Pool], case_id: str, tmp_path: Path
) -> None:
    await pba_case(trust_api, case_id, "prov-bundle")
    public_key = await _signed(fresh[1], tmp_path)
    original = (await trust_api.get(f"/cases/{case_id}/export", role="auditor")).content
    changed = original.replace(b'"1300.00"', b'"1390.00"', 1)
    assert changed != original and len(changed) == len(original)
    result = check_bundle(changed, public_key, AS_OF)
    assert not result.ok
    assert {f.code for f in result.findings} == {"hash_mismatch"}


async def test_proofs_served_verify_against_the_signed_checkpoint(
    trust_api: Api, fresh: tuple[str, Pool], case_id: str, tmp_path: Path
) -> None:
    opened = await trust_api.append(case_id, {"type": "CaseOpened", "data": _opened()})
    public_key = await _signed(fresh[1], tmp_path)
    older = (await trust_api.get("/checkpoints/latest", role="auditor")).json()
    await trust_api.append(
        case_id, {"type": "IPEAmended", "data": {"amended_on": "2024-01-09", "service_categories_added": []}}
    )
    await _signed(fresh[1], tmp_path)
    newer = (await trust_api.get("/checkpoints/latest", role="auditor")).json()
    verifier = load_verifier_key_file(public_key)
    old_cp, new_cp = (verify_signed_checkpoint(c["note"], verifier) for c in (older, newer))

    event = opened.json()["events"][0]
    answer = await trust_api.get(
        f"/events/{event['event_id']}/proof", role="auditor", params={"tree_size": old_cp.tree_size}
    )
    assert answer.status_code == 200, answer.text
    proof = answer.json()
    stored = (await trust_api.get(f"/cases/{case_id}/events")).json()["events"][0]
    leaf = event_leaf_hash(case_id, 1, stored["hash"])
    path = [base64.b64decode(p) for p in proof["inclusion_proof"]]
    assert verify_inclusion(leaf, proof["leaf_index"], old_cp.tree_size, path, old_cp.root_hash)

    params = {"from": old_cp.tree_size, "to": new_cp.tree_size}
    consistency = (await trust_api.get("/checkpoints/consistency", role="auditor", params=params)).json()
    hashes = [base64.b64decode(p) for p in consistency["consistency_proof"]]
    assert verify_consistency(old_cp.tree_size, new_cp.tree_size, old_cp.root_hash, new_cp.root_hash, hashes)


async def test_trust_answers_are_for_auditors_and_admins(trust_api: Api, case_id: str) -> None:
    for path in ("/checkpoints/latest", f"/cases/{case_id}/export", "/checkpoints/consistency?from=1&to=1"):
        assert (await trust_api.get(path)).status_code == 403
    missing = await trust_api.get(f"/cases/{case_id}/export", role="auditor")
    assert missing.status_code == 404 and missing.json()["code"] == "case_not_found"


def _opened() -> dict[str, object]:
    return {"opened_on": "2024-01-02", "supported_employment": False, "ipe_service_categories": []}
