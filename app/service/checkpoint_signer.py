"""The service's own signer: a checkpoint every `checkpoint_interval_seconds` when a key is configured.

The web lifespan starts it (`start_interval_signer`) and cancels it on shutdown. A round
that fails (database down, disk full) is logged and retried at the next interval: the
window since the last checkpoint grows, nothing else is affected. Appends never wait
for it: it reads the stable prefix and writes only the checkpoint tables.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

from app.domain.policy import PolicyTable
from app.service.checkpoint_keys import load_or_create_signing_key_file
from app.service.checkpointing import Signer, make_checkpoint
from app.settings import Settings
from app.store.db import DATABASE_DOWN
from app.store.pool import Pool

log = logging.getLogger("caseledger.checkpoints")


async def sign_every(
    pool: Pool, policy: Callable[[], PolicyTable], policy_id: str, signer: Signer, interval: float
) -> None:
    """`policy()` is asked each round: an adoption since the last round becomes a leaf."""
    while True:
        try:
            path, _ = await make_checkpoint(pool, policy(), policy_id, signer)
            log.debug("checkpoint %s", path.name)
        except (*DATABASE_DOWN, asyncpg.PostgresError) as error:
            log.warning("checkpoint not signed this round: %s: %s", type(error).__name__, error)
        await asyncio.sleep(interval)


def configured_signer(settings: Settings) -> Signer | None:
    """The signer when `checkpoint_key_file` is set (its directory by default for the files)."""
    if settings.checkpoint_key_file is None:
        return None
    key_file = Path(settings.checkpoint_key_file)
    key, verifier = load_or_create_signing_key_file(key_file, settings.checkpoint_origin)
    out_dir = Path(settings.checkpoint_dir or key_file.parent / "checkpoints")
    return Signer(key, verifier.name, settings.checkpoint_origin, out_dir)


@asynccontextmanager
async def interval_signer(
    settings: Settings, pool: Pool, policy: Callable[[], PolicyTable]
) -> AsyncIterator[None]:
    """Run the signer for the life of the block (nothing at all when no key is configured)."""
    signer = await asyncio.to_thread(configured_signer, settings)  # reads (or creates) the key file
    if signer is None:
        yield
        return
    task = asyncio.create_task(
        sign_every(pool, policy, settings.policy_id(), signer, settings.checkpoint_interval_seconds)
    )
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
