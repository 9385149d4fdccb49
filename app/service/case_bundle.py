"""Export one case as an offline bundle: its events, the policy they were judged by, proofs, checkpoint.

The bundle holds the case's events that the newest signed checkpoint covers (a prefix
of the stream: events recorded since are left out and counted in `uncovered`), the
policy versions in force with their leaves, an inclusion proof for each, and the signed
note itself. `caseledger verify-bundle` checks it with the public key alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from app.domain.bundle import build_bundle, encode_proof
from app.domain.merkle_leaves import policy_version_digest, policy_version_record
from app.domain.policy import PolicyTable
from app.service.case_keys import CaseKeys
from app.service.errors import ServiceError
from app.service.tree_proofs import proofs_of
from app.store import merkle as trust_store
from app.store import streams as store


@dataclass(frozen=True, slots=True)
class ExportedCase:
    bundle: bytes
    tree_size: int
    events: int
    uncovered: int  # the case's events recorded after the checkpoint


def _policy_entries(
    policy: PolicyTable, policy_id: str, leaves: list[asyncpg.Record], size: int
) -> list[dict[str, Any]]:
    """Each version in force with its leaf; refused when one is not in the signed tree yet."""
    known = {(r["version"], bytes(r["digest"])): r["leaf_index"] for r in leaves if r["subject"] == policy_id}
    entries = []
    for number, version in enumerate(policy.versions, start=1):
        record = policy_version_record(version)
        index = known.get((number, policy_version_digest(record)))
        if index is None or index >= size:
            raise ServiceError("not_found", "the policy in force is not covered by a signed checkpoint yet")
        entries.append({"number": number, "record": record, "leaf_index": index})
    return entries


async def export_case(
    pool: asyncpg.Pool, case_id: str, policy: PolicyTable, policy_id: str, keys: CaseKeys | None = None
) -> ExportedCase:
    """The case's bundle. Each event is bundled as stored, personal values sealed: that is
    what its hash and the checkpoint cover, so the bundle verifies offline with no key. An
    event with personal values also carries `opened` ({"data", "metadata"} as an authorized
    reader sees them, "[destroyed]" after retention), outside the hash: for the auditor."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        checkpoint = await trust_store.latest_checkpoint(conn)
        events = await store.read_stream(conn, case_id)
        if not events:
            raise ServiceError("case_not_found", f"no case {case_id}")
        if checkpoint is None:
            raise ServiceError("not_found", "no checkpoint has been signed yet")
        size = checkpoint.tree_size
        indexes = await trust_store.case_leaf_indexes(conn, case_id, size)
        covered = [e for e in events if e.version in indexes]
        if not covered:
            raise ServiceError("not_found", f"no signed checkpoint covers case {case_id} yet")
        entries = _policy_entries(policy, policy_id, await trust_store.policy_leaves(conn), size)
        wanted = [indexes[e.version] for e in covered] + [p["leaf_index"] for p in entries]
        proofs = await proofs_of(conn, wanted, size)
        opened = await keys.opened(conn, covered) if keys is not None else covered
    bundled_events = [
        e.to_json()
        | {"leaf_index": indexes[e.version], "inclusion_proof": encode_proof(proofs[indexes[e.version]])}
        | _opened_part(e, o)
        for e, o in zip(covered, opened, strict=True)
    ]
    for entry in entries:
        entry["inclusion_proof"] = encode_proof(proofs[entry["leaf_index"]])
    bundle = build_bundle(case_id, checkpoint.note, bundled_events, policy_id, entries)
    return ExportedCase(bundle, size, len(covered), len(events) - len(covered))


def _opened_part(stored: store.StoredEvent, opened: store.StoredEvent) -> dict[str, Any]:
    if stored.data == opened.data and stored.metadata == opened.metadata:
        return {}
    return {"opened": {"data": opened.data, "metadata": opened.metadata}}
