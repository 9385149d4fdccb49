"""Export one case as an offline bundle: its events, the policy they were judged by, proofs, checkpoint.

The bundle holds the case's events that the newest signed checkpoint covers (a prefix
of the stream: events recorded since are left out and counted in `uncovered`), every
adoption of the policy the service answers with, under its adoption number (the number
of its checkpoint leaf; `app.domain.bundle_policy` says why not its place in the table),
an inclusion proof for each, and the signed note itself. `caseledger verify-bundle`
checks it with the public key alone and replays the service's clock and ledger.

An adoption not yet in the checkpoint is refused, not left out: without it the replay
would price and explain the case otherwise than the service does, silently. The service's
signer adds it at its next round (docs/trust.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from app.domain.bundle import build_bundle, encode_proof
from app.domain.bundle_policy import policy_entries
from app.domain.merkle_leaves import policy_version_digest
from app.domain.policy import PolicyTable
from app.service.case_keys import CaseKeys
from app.service.errors import ServiceError
from app.service.tree_proofs import proofs_of
from app.store import merkle as trust_store
from app.store import streams as store
from app.store.pool import Pool


@dataclass(frozen=True, slots=True)
class ExportedCase:
    bundle: bytes
    tree_size: int
    events: int
    uncovered: int  # the case's events recorded after the checkpoint


def _policy_entries(
    policy: PolicyTable, policy_id: str, leaves: list[asyncpg.Record], size: int
) -> list[dict[str, Any]]:
    """Each version the bundle carries with its leaf; refused when one is not in the signed tree yet."""
    signed = {
        (r["version"], bytes(r["digest"])): r["leaf_index"]
        for r in leaves
        if r["subject"] == policy_id and r["leaf_index"] < size
    }
    entries = policy_entries(policy)
    keys = [(e["number"], policy_version_digest(e["record"])) for e in entries]
    missing = [e for e, key in zip(entries, keys, strict=True) if key not in signed]
    if missing:
        raise ServiceError(
            "not_found",
            _not_signed_yet(missing, size),
            uncovered_policy_versions=[e["number"] for e in missing],
        )
    return [e | {"leaf_index": signed[key]} for e, key in zip(entries, keys, strict=True)]


def _not_signed_yet(missing: list[dict[str, Any]], size: int) -> str:
    named = ", ".join(
        f"policy version {e['number']}" + (f" (adopted at {e['adopted_at']})" if "adopted_at" in e else "")
        for e in missing
    )
    verb, it = ("is", "it") if len(missing) == 1 else ("are", "them")
    return (
        f"{named} {verb} not in the newest signed checkpoint (tree size {size}) yet, and the "
        f"case's clock and ledger depend on {it}: export again after the next checkpoint"
    )


async def export_case(
    pool: Pool, case_id: str, policy: PolicyTable, policy_id: str, keys: CaseKeys | None = None
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
