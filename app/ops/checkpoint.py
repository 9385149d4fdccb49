"""`caseledger checkpoint --key FILE --out DIR`: one signed checkpoint, written outside the database.

The key file is created (with `FILE.pub`, the verifier key auditors are given) when it
is missing; the signing itself is `app.service.checkpointing.make_checkpoint`.
"""

from __future__ import annotations

from pathlib import Path

from app.domain.policy import PolicyTable
from app.service.checkpoint_keys import load_or_create_signing_key_file
from app.service.checkpointing import Signer, make_checkpoint
from app.store.pool import Pool


def signer_from_key_file(key_file: Path, out_dir: Path, origin: str) -> Signer:
    """The signer for `key_file` (created when missing); the key's name is the log's origin."""
    key, verifier = load_or_create_signing_key_file(key_file, origin)
    return Signer(key, verifier.name, origin, out_dir)


async def checkpoint_once(
    pool: Pool, policy: PolicyTable, policy_id: str, signer: Signer
) -> tuple[Path, str]:
    return await make_checkpoint(pool, policy, policy_id, signer)
