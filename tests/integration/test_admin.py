"""Key management over HTTP: admin only, keys shown once, revocation immediate in-process."""

from __future__ import annotations

from tests.builders import case_opened


async def test_admin_creates_a_provider_key_that_works_and_revokes_it(api, case_id):
    created = await api.post("/admin/api-keys", {"role": "provider", "provider_id": "prov-adm"}, role="admin")
    assert created.status_code == 201
    body = created.json()
    assert body["role"] == "provider" and body["key"].startswith("cl_")
    provider = {"Authorization": f"Bearer {body['key']}"}
    assert (await api.client.get("/providers/prov-adm/ledger", headers=provider)).status_code == 200

    listed = (await api.get("/admin/api-keys", role="admin")).json()["keys"]
    mine = next(k for k in listed if k["key_id"] == body["key_id"])
    assert mine["revoked_at"] is None and "key" not in mine and "key_hash" not in mine

    assert (
        await api.client.delete(f"/admin/api-keys/{body['key_id']}", headers=api.headers("admin"))
    ).status_code == 204
    refused = await api.client.get("/providers/prov-adm/ledger", headers=provider)
    assert refused.status_code == 401 and refused.json()["code"] == "unauthorized"
    again = await api.client.delete(f"/admin/api-keys/{body['key_id']}", headers=api.headers("admin"))
    assert again.status_code == 404


async def test_only_admin_manages_keys_and_provider_keys_need_a_provider(api):
    for role in ("case_system", "auditor"):
        response = await api.post("/admin/api-keys", {"role": "admin"}, role=role)
        assert response.status_code == 403 and response.json()["code"] == "forbidden"
    unbound = await api.post("/admin/api-keys", {"role": "provider"}, role="admin")
    assert unbound.status_code == 422


async def test_admin_may_do_what_every_role_may(api, case_id):
    assert (await api.append(case_id, case_opened(), role="admin")).status_code == 201
    assert (await api.get(f"/cases/{case_id}/verify", role="admin")).status_code == 200
