"""The policy table as recorded history: seed, adopt, list, verify, and the cache of it.

Every answer uses the table as known at its `known_at`: the service holds the
current table, which carries every adoption (`PolicyTable.adoptions`), and reads
derive the past from it (`PolicyTable.as_known_at`). The table lives in
`policy_versions`; the configured file only seeds an empty one (docs/policy.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from app.domain.hashing import GENESIS
from app.domain.policy import Adoption, PolicyTable, PolicyVersion, version_from_row, version_record
from app.domain.policy_history import StoredVersion, chain_hash, chain_problems
from app.service.errors import ServiceError
from app.store import policy_versions as store
from app.store.db import DATABASE_DOWN
from app.store.pool import Pool

log = logging.getLogger("caseledger.policy")
# Seeded versions stand for the file in force before the database recorded any policy:
# known since before anything the service recorded (docs/policy.md).
SEEDED_AT = datetime(1970, 1, 1, tzinfo=UTC)


def parse_version(row: Any) -> PolicyVersion:
    """A proposed row (adoption or preview body); 422 `invalid_request` when it is not one."""
    try:
        return version_from_row(row)
    except ValueError as error:
        raise ServiceError("invalid_request", f"not a policy version: {error}") from None


def _stored(record: asyncpg.Record) -> StoredVersion:
    version = version_from_row(
        {
            "effective_from": record["effective_from"].isoformat(),
            "closure_wait_days": record["closure_wait_days"],
            "milestone_rates": record["milestone_rates"],
            "pba_cap_per_consumer": str(record["pba_cap_per_consumer"]),
            "retention_years": record["retention_years"],
        }
    )
    adoption = Adoption(record["number"], record["adopted_at"], record["adopted_by"], version)
    return StoredVersion(adoption, record["previous_hash"], record["hash"])


async def stored_versions(conn: asyncpg.Connection) -> list[StoredVersion]:
    return [_stored(r) for r in await store.read_versions(conn)]


def table_of(stored: list[StoredVersion]) -> PolicyTable:
    return PolicyTable.from_adoptions(tuple(s.adoption for s in stored))


async def _append(conn: asyncpg.Connection, stored: list[StoredVersion], adoption: Adoption) -> StoredVersion:
    previous = stored[-1].hash if stored else GENESIS
    row = StoredVersion(adoption, previous, chain_hash(previous, adoption))
    record = version_record(adoption.version)
    await store.insert_version(
        conn,
        {
            **record,
            "effective_from": adoption.version.effective_from,
            "pba_cap_per_consumer": adoption.version.pba_cap_per_consumer,
            "number": adoption.number,
            "adopted_at": adoption.adopted_at,
            "adopted_by": adoption.adopted_by,
            "previous_hash": previous,
            "hash": row.hash,
        },
    )
    stored.append(row)
    return row


async def seed_if_empty(conn: asyncpg.Connection, seed: PolicyTable, seeded_by: str) -> PolicyTable:
    """The recorded table; an empty one is first seeded with `seed`'s versions."""
    async with conn.transaction():
        await store.take_turn(conn)
        stored = await stored_versions(conn)
        if not stored:
            for number, version in enumerate(seed.versions, start=1):
                await _append(conn, stored, Adoption(number, SEEDED_AT, seeded_by, version))
    table = table_of(stored)
    if table.versions != seed.versions:
        log.info("the configured policy differs from the recorded one, which is used (docs/policy.md)")
    return table


@dataclass(frozen=True, slots=True)
class Adopted:
    """An adoption: the table before and after it, and the stored row."""

    before: PolicyTable
    after: PolicyTable
    row: StoredVersion


async def adopt(
    pool: Pool, version: PolicyVersion, *, adopted_by: str, now: datetime | None = None
) -> Adopted:
    """Record `version` as adopted now by `adopted_by` (after every earlier adoption)."""
    async with pool.acquire() as conn, conn.transaction():
        await store.take_turn(conn)
        stored = await stored_versions(conn)
        if not stored:
            raise ServiceError(
                "invalid_request", "the policy has not been seeded yet: start the service once"
            )
        before = table_of(stored)
        moment = now or datetime.now(UTC)
        # Adoption times strictly increase, so "known at" is never ambiguous.
        moment = max(moment, stored[-1].adoption.adopted_at + timedelta(microseconds=1))
        row = await _append(conn, stored, Adoption(len(stored) + 1, moment, adopted_by, version))
    return Adopted(before, table_of(stored), row)


def listed(stored: list[StoredVersion], known_at: datetime | None) -> list[dict[str, Any]]:
    """The versions adopted by `known_at` (default: all), with who adopted each and when."""
    return [
        {
            "number": s.adoption.number,
            **version_record(s.adoption.version),
            "adopted_at": s.adoption.adopted_at,
            "adopted_by": s.adoption.adopted_by,
            "previous_hash": s.previous_hash,
            "hash": s.hash,
        }
        for s in stored
        if known_at is None or s.adoption.adopted_at <= known_at
    ]


async def verify_chain(conn: asyncpg.Connection) -> list[str]:
    """What breaks the policy versions' hash chain (nothing: it verifies)."""
    return chain_problems(await stored_versions(conn))


class PolicyCache:
    """The current table for one service process.

    Reloaded when this process adopts (in-process invalidation) and when the cheap
    check (the last number and hash) finds another process adopted, at most every
    `check_every_s` seconds, so several worker processes converge.
    """

    def __init__(self, pool: Pool, *, check_every_s: float = 2.0) -> None:
        self.pool = pool
        self.check_every_s = check_every_s
        self._table: PolicyTable | None = None
        self._head: tuple[int, str | None] = (0, None)
        self._listeners: list[Callable[[PolicyTable], None]] = []

    async def start(self, seed: PolicyTable, seeded_by: str) -> PolicyTable:
        async with self.pool.acquire() as conn:
            await seed_if_empty(conn, seed, seeded_by)
        await self.check()
        return self.current()

    def current(self) -> PolicyTable:
        if self._table is None:
            raise RuntimeError("PolicyCache.start() has not run")
        return self._table

    def on_change(self, listener: Callable[[PolicyTable], None]) -> None:
        self._listeners.append(listener)

    def use(self, table: PolicyTable, head: tuple[int, str | None]) -> None:
        self._table, self._head = table, head
        for listener in self._listeners:
            listener(table)

    def adopted(self, adopted: Adopted) -> None:
        """This process adopted: use the new table at once (unless a newer one is in use)."""
        if adopted.row.adoption.number > self._head[0]:
            self.use(adopted.after, (adopted.row.adoption.number, adopted.row.hash))

    async def check(self) -> bool:
        """Reload if another process adopted since; whether it did."""
        async with self.pool.acquire() as conn:
            head = await store.head(conn)
            if head == self._head and self._table is not None:
                return False
            stored = await stored_versions(conn)
        self.use(table_of(stored), (len(stored), stored[-1].hash if stored else None))
        return True

    @contextlib.asynccontextmanager
    async def watching(self) -> AsyncIterator[None]:
        """Check every `check_every_s` seconds while the body runs."""
        task = asyncio.create_task(self._watch())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.check_every_s)
            try:
                await self.check()
            except (*DATABASE_DOWN, asyncpg.PostgresError) as error:
                log.warning("policy check failed, keeping the current table: %s", error)


def seed_label(policy_id: str) -> str:
    """Who the seeded versions say adopted them: the configured file, or the built-in table."""
    return "seed: built-in default table" if policy_id == "default" else f"seed: policy file {policy_id}"


async def recorded_table(pool: Pool, seed: PolicyTable, policy_id: str) -> PolicyTable:
    """The recorded table (seeded first when empty): what the importer and rebuild use."""
    async with pool.acquire() as conn:
        return await seed_if_empty(conn, seed, seed_label(policy_id))
