"""Access records written in batches, off the request path.

Why a queue: a read must not wait for its own access record (the closure clock is
read thousands of times a second). Requests `note` a pending record (no I/O, no
hashing); one background task per process writes what has queued every `interval`
seconds, or sooner once `batch_size` records wait, in one transaction. `recording`
starts the task and, on a clean shutdown, writes everything still queued before the
pool closes. A crash (SIGKILL, power loss, OOM) loses the records of at most the last
interval, plus a batch whose transaction did not commit; a failed write is retried
at the next interval while the queue stays under `max_pending`.

Why the batch does the work and in slices: who holds a key is looked up once per key
(and then remembered: a key's id, role and provider never change), a page's case ids
are read from its body, and each record is encoded once (`access_records.RecordBatch`),
all between the requests' turns (the loop gets a turn every `SLICE` records), so a
batch of hundreds never holds the event loop for milliseconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from app.domain.access_records import RecordBatch, case_ids_in
from app.service.keys import hash_key
from app.store import access_log as store
from app.store.db import DATABASE_DOWN
from app.store.pool import Pool

log = logging.getLogger("caseledger.access_record")
SLICE = 200  # records prepared between two turns of the event loop
MAX_HOLDERS = 10_000
Holder = tuple[str, str, str | None]  # key_id, role, provider_id


@dataclass(slots=True)
class Pending:
    """A record as the request left it: who by the API key or UI session it sent (resolved
    in the batch, so the request pays no lookup and no hash), and its case ids, or the
    page body to read them from (a listing that did not name them)."""

    at: datetime
    client: str | None
    case_ids: tuple[str, ...] | None
    endpoint: str
    request_id: str | None
    status: int
    body: bytes | None = None
    key: str | None = None
    session_id: str | None = None
    holder: Holder | None = None  # who, when the request already knew (its route authenticated it)


class AccessRecorder:
    def __init__(
        self,
        pool: Pool,
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
        self._holders: dict[str, Holder] = {}  # key hash -> who holds it (revoked or not)
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
            key_hashes = {key: hash_key(key) for key in {p.key for p in taken if p.key}}
            by_session = await self._resolve(
                set(key_hashes.values()), {p.session_id for p in taken if p.session_id}
            )
            batch = await self._gather(taken, key_hashes, by_session)
            async with self.pool.acquire() as conn:
                return await store.append_batch(conn, batch)
        except asyncio.CancelledError:
            self._pending = taken + self._pending  # shutdown: the final flush writes them
            raise
        except (*DATABASE_DOWN, asyncpg.PostgresError) as exc:
            log.warning("access records not written yet (%d queued): %s", len(taken), exc)
            self._pending = taken + self._pending
            return 0

    async def _resolve(self, key_hashes: set[str], sessions: set[str]) -> dict[str, Holder]:
        """Learn the holders of the keys not seen before; the holders of the UI sessions
        (by session id; a session may have ended since, so they are not remembered)."""
        unknown = sorted(key_hashes - self._holders.keys())
        if not unknown and not sessions:
            return {}
        session_hashes = {hash_key(s): s for s in sessions}
        async with self.pool.acquire() as conn:
            found = await store.key_holders(conn, unknown) if unknown else {}
            by_hash = await store.session_keys(conn, sorted(session_hashes)) if sessions else {}
        if len(self._holders) + len(found) > MAX_HOLDERS:  # keep what this batch needs
            self._holders = {h: who for h, who in self._holders.items() if h in key_hashes}
        for key_hash, row in found.items():
            self._holders[key_hash] = (row["key_id"], row["role"], row["provider_id"])
        return {session_hashes[h]: (r["key_id"], r["role"], r["provider_id"]) for h, r in by_hash.items()}

    async def _gather(
        self, taken: list[Pending], key_hashes: dict[str, str], by_session: dict[str, Holder]
    ) -> RecordBatch:
        """The batch of the records taken; a page that named no case leaves no record."""
        batch = RecordBatch()
        holders = self._holders
        for index, p in enumerate(taken):
            if index and not index % SLICE:
                await asyncio.sleep(0)
            ids = p.case_ids if p.case_ids is not None else case_ids_in(p.body or b"")
            if not ids:
                continue
            who = p.holder
            if who is None and p.key:
                who = holders.get(key_hashes[p.key])
            if who is None and p.session_id:
                who = by_session.get(p.session_id)
            key_id, role, provider_id = who or (None, None, None)
            fields = (p.client, ids, p.endpoint, p.request_id, p.status)
            batch.add_fields(p.at, key_id, role, provider_id, *fields)
        return batch

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
