"""`caseledger access-log --verify`: recompute the access record's chain from the database.

Why an operator command, beside the event log's `verify`: an auditor who asks "who viewed
this case" must be able to show that no record of it was removed or changed since.
One read-only pass in one snapshot, a few batches in memory at a time; the rules are
`app.domain.access_chain`.
"""

from __future__ import annotations

import asyncpg

from app.domain.access_chain import ChainCheck, StoredBatch
from app.store import access_log as store


async def verify_access_log(conn: asyncpg.Connection) -> ChainCheck:
    """Every batch checked in chain order; what breaks the chain is in `problems`."""
    check = ChainCheck()
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        async for row in store.batches(conn):
            check.batch(StoredBatch(**dict(row)))
    return check
