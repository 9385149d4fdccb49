"""Access records written in batches, off the request path.

Why a queue: a read must not wait for its own access record (the closure clock is
read hundreds of times a second). Requests `note` a pending record (no I/O); one
background task per process writes what has queued every `interval` seconds, or
sooner once `batch_size` records wait, in one transaction. `recording` starts the
task and, on a clean shutdown, writes everything still queued before the pool
closes. A crash (SIGKILL, power loss, OOM) loses the records of at most the last
interval, plus a batch whose transaction did not commit; a failed write is retried
at the next interval while the queue stays under `max_pending`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import asyncpg

from app.domain.access_records import AccessRecord, case_ids_in
from app.store import access_log as store

log = logging.getLogger("caseledger.access_record")


@dataclass(frozen=True, slots=True)
class Pending:
    """A record as the request left it: the page body still to read for its case ids, the
    API key (its SHA-256) or UI session still to resolve to who holds it, so the request
    pays no lookup for its own record."""

    record: AccessRecord
    body: bytes | None = None
    key_hash: str | None = None
    session_hash: str | None = None


class AccessRecorder:
    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        interval: float = 0.5,
        batch_size: int = 500,
        max_pending: int = 100_000,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.pool, self.interval, self.batch_size, self.max_pending = pool, interval, batch_size, max_pending
        self.now = now
        self._pending: list[Pending] = []
        self._full = asyncio.Event()
        self.lost = 0  # records dropped because the database stayed away (logged)

    def note(self, pending: Pending) -> None:
        """Queue a record; never blocks, never raises."""
        if len(self._pending) >= self.max_pending:
            self.lost += 1
            return
        self._pending.append(pending)
        if len(self._pending) >= self.batch_size:
            self._full.set()

    async def flush(self) -> int:
        """Write everything queued now; the records stay queued when the write fails."""
        taken, self._pending = self._pending, []
        if not taken:
            return 0
        try:
            async with self.pool.acquire() as conn:
                records = await _resolved(conn, taken)
                return await store.append_batch(conn, records)
        except asyncio.CancelledError:
            self._pending = taken + self._pending  # shutdown: the final flush writes them
            raise
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
            log.warning("access records not written yet (%d queued): %s", len(taken), exc)
            self._pending = taken + self._pending
            return 0

    async def run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._full.wait(), self.interval)
            self._full.clear()
            await self.flush()


@contextlib.asynccontextmanager
async def recording(recorder: AccessRecorder) -> AsyncIterator[AccessRecorder]:
    """Run the recorder's writer for the block; write what is left at a clean exit."""
    task = asyncio.create_task(recorder.run(), name="access-record-writer")
    try:
        yield recorder
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await recorder.flush()


async def _resolved(conn: asyncpg.Connection, taken: list[Pending]) -> list[AccessRecord]:
    """Records complete: case ids read from page bodies, UI sessions turned into keys.
    A page that named no case leaves no record."""
    sessions = {p.session_hash for p in taken if p.session_hash}
    api_keys = {p.key_hash for p in taken if p.key_hash}
    by_session = await store.session_keys(conn, sorted(sessions)) if sessions else {}
    by_key = await store.key_holders(conn, sorted(api_keys)) if api_keys else {}
    records = []
    for pending in taken:
        record = pending.record
        if pending.body is not None:
            record = replace(record, case_ids=case_ids_in(pending.body))
        key = by_key.get(pending.key_hash or "") or by_session.get(pending.session_hash or "")
        if key is not None:
            record = replace(record, key_id=key["key_id"], role=key["role"], provider_id=key["provider_id"])
        if record.case_ids:
            records.append(record)
    return records
