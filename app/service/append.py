"""The one command handler: read the case, fold, decide, append; retry a lost race.

Routes and the bulk importer both come through here (the importer through the
same validation, batch loop and append plan), so every event meets the same
schema, the same deciders and the same idempotency rules. Raises `ServiceError`
only; `app.web` turns it into problem+json.

This module holds the attempt loop and where each attempt reads the case from; the
steps live beside it: who may append (`validate`, `provider_visibility`), the decide
step (`append_decide`), the write step (`append_write`) and what an attempt that did
not write answers (`append_retry`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from uuid import UUID

import asyncpg

from app.domain.append_plan import Head
from app.domain.case import FOLD_VERSION, CaseState
from app.domain.policy import PolicyTable
from app.domain.sealing import blind_event
from app.events import EventRetracted
from app.projections.projector import projector
from app.service.append_decide import Decided, RefusedBatch, decide
from app.service.append_retry import after_lost_race, after_refusal
from app.service.append_state import state_for_batch
from app.service.append_write import write_decided
from app.service.case_keys import CaseKeys
from app.service.idempotency import Appended, as_stored, client_ids, replay_of_earlier_append
from app.service.keys import Principal
from app.service.provider_visibility import ensure_provider_sees_case
from app.service.refusals import version_conflict
from app.service.state_cache import StateCache
from app.service.validate import Proposed, Validated, role_refusal, validate
from app.store import appends
from app.store import streams as store
from app.store.pool import Pool


class AppendHandler:
    def __init__(
        self,
        pool: Pool,
        policy: PolicyTable,
        *,
        retries: int = 5,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_refusal: Callable[[str], None] | None = None,
        on_conflict: Callable[[], None] | None = None,
        on_appended: Callable[[Sequence[str]], None] | None = None,
        cache: StateCache | None = None,
        keys: CaseKeys | None = None,
    ) -> None:
        self.pool = pool
        self.cache = cache if cache is not None else StateCache()
        self.policy = policy
        self.project = projector(policy)
        self.retries = retries
        self.now = now
        self.on_refusal = on_refusal or (lambda rule: None)
        self.on_conflict = on_conflict or (lambda: None)
        self.on_appended = on_appended or (lambda types: None)
        # With keys, personal values are sealed per case (docs/privacy.md); without, stored clear.
        self.keys = keys
        self.opened = keys.opened if keys is not None else as_stored

    def use_policy(self, table: PolicyTable) -> None:
        """Decide and project with a newly adopted table from the next append on."""
        self.policy = table
        self.project = projector(table)

    async def append(
        self, principal: Principal, case_id: str, expected_version: int | None, proposed: Sequence[Proposed]
    ) -> Appended:
        batch = await self._admitted(principal, case_id, proposed)
        mode = "optimistic"
        for _attempt in range(self.retries + 1):
            async with self.pool.acquire() as conn:
                try:
                    appended = await self._attempt(conn, principal, case_id, expected_version, batch, mode)
                except appends.LostRace as race:
                    self.on_conflict()
                    original = await after_lost_race(
                        conn, case_id, expected_version, batch, race, self.opened
                    )
                    if original is not None:
                        return original
                    mode = "contended"
                    continue
                except RefusedBatch as refused:
                    if refused.trusted:
                        return await after_refusal(
                            conn, principal, case_id, batch, refused.refused, self.opened, self.on_refusal
                        )
                    mode = "verified"
                    continue
            self.on_appended([e["type"] for e in appended.events])
            return appended
        async with self.pool.acquire() as conn:
            raise version_conflict(None, await store.current_version(conn, case_id))

    async def _admitted(
        self, principal: Principal, case_id: str, proposed: Sequence[Proposed]
    ) -> list[Validated]:
        """The batch as it is decided: the role's event types, the provider's own cases,
        each event's schema; then, with keys, its personal values blinded."""
        refused = role_refusal(principal, [p.type for p in proposed])
        if refused is not None:
            raise refused
        await ensure_provider_sees_case(self.pool, principal, case_id)
        batch = validate(proposed, principal)
        if self.keys is not None:
            # Decided and folded without personal values: no rule reads one, and the state,
            # its snapshot, the cache and the read models then hold none (data keeps them
            # for sealing and for comparing a retry).
            batch = [_blinded(v) for v in batch]
        return batch

    async def _attempt(
        self,
        conn: asyncpg.Connection,
        principal: Principal,
        case_id: str,
        expected_version: int | None,
        batch: Sequence[Validated],
        mode: str,
    ) -> Appended:
        """One read-decide-append.

        optimistic: the cached state when it may be current (one round trip; a stale
        cache loses the race on the head, and a refusal is re-checked against the
        database before it is believed). verified: the case's head is read first.
        contended: after a lost race, writers of this case (only) queue on a
        transaction-scoped advisory lock, so a hot case converges.
        """
        if mode == "optimistic":
            cached = self._cached_head(case_id, expected_version, batch)
            if cached is not None:
                head, state = cached
                decided = decide(self.policy, principal, head, state, None, batch, self.now(), trusted=False)
                return await self._write(conn, case_id, decided)
        if mode != "contended":
            return await self._read_decide_append(conn, principal, case_id, expected_version, batch)
        async with conn.transaction():
            await appends.queue_behind_writers_of(conn, case_id)
            return await self._read_decide_append(conn, principal, case_id, expected_version, batch)

    def _cached_head(
        self, case_id: str, expected_version: int | None, batch: Sequence[Validated]
    ) -> tuple[Head, CaseState] | None:
        """The head as this process last wrote it, when an optimistic append may use it.

        Not with client event_ids (a retry must find the original) nor retractions
        (they need the whole history), nor when the client expects another version.
        """
        cached = self.cache.get(case_id)
        head = cached.head(FOLD_VERSION) if cached is not None else None
        if (
            cached is None
            or head is None
            or client_ids(batch)
            or any(isinstance(v.event, EventRetracted) for v in batch)
            or (expected_version is not None and expected_version != cached.version)
        ):
            return None
        return head, cached.state

    async def _read_decide_append(
        self,
        conn: asyncpg.Connection,
        principal: Principal,
        case_id: str,
        expected_version: int | None,
        batch: Sequence[Validated],
    ) -> Appended:
        ids: list[UUID] = client_ids(batch)
        head = await store.load_head(conn, case_id, ids, cached_version=self.cache.version_of(case_id))
        if head.existing:
            return replay_of_earlier_append(case_id, batch, await self.opened(conn, head.existing))
        if expected_version is not None and expected_version != head.version:
            raise version_conflict(expected_version, head.version)
        state, history = await state_for_batch(conn, case_id, head, batch, self.cache)
        decided = decide(
            self.policy, principal, head.plan_head(), state, history, batch, self.now(), trusted=True
        )
        return await self._write(conn, case_id, decided)

    async def _write(self, conn: asyncpg.Connection, case_id: str, decided: Decided) -> Appended:
        return await write_decided(
            conn, case_id, decided, project=self.project, cache=self.cache, keys=self.keys
        )


def _blinded(validated: Validated) -> Validated:
    """`validated` with its personal values blinded; most events hold none and stay as they are."""
    event = blind_event(validated.event)
    return validated if event is validated.event else replace(validated, event=event)
