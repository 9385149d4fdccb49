"""The one command handler: read the case, fold, decide, append; retry a lost race.

Routes and the bulk importer both come through here (the importer through the
same validation, batch loop and append plan), so every event meets the same
schema, the same deciders and the same idempotency rules. Raises `ServiceError`
only; `app.web` turns it into problem+json.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from uuid import UUID

import asyncpg

from app.domain.append_plan import Head, plan_append, recording_time
from app.domain.batch import Refused, decide_batch
from app.domain.case import FOLD_VERSION, CaseState
from app.domain.facts import Fact
from app.domain.policy import PolicyTable
from app.domain.sealing import blind_event, holds_personal, seal_event_data
from app.events import EventRetracted
from app.projections.projector import projector
from app.service.append_state import state_for_batch
from app.service.case_keys import CaseKeys
from app.service.errors import ServiceError
from app.service.idempotency import (
    Appended,
    as_stored,
    client_ids,
    original_answer,
    replay_of_earlier_append,
)
from app.service.keys import Principal
from app.service.refusals import (
    keep_refused_claim,
    keeps_claim,
    provider_check,
    refusal_error,
    version_conflict,
)
from app.service.state_cache import CachedCase, StateCache
from app.service.validate import Proposed, Validated, role_refusal, validate
from app.store import appends, providers
from app.store import streams as store


class _Refused(Exception):
    """A decider said no; carried out of any transaction before the claim is kept."""

    def __init__(self, refused: Refused, *, trusted: bool) -> None:
        super().__init__(refused.refusal.detail)
        self.refused = refused
        self.trusted = trusted  # decided on a state read from the database, not only cached


class AppendHandler:
    def __init__(
        self,
        pool: asyncpg.Pool,
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
        refused = role_refusal(principal, [p.type for p in proposed])
        if refused is not None:
            raise refused
        if principal.role == "provider":
            await self._provider_sees_case(principal, case_id)
        batch = validate(proposed, principal)
        if self.keys is not None:
            # Decided and folded without personal values: no rule reads one, and the state,
            # its snapshot, the cache and the read models then hold none (data keeps them
            # for sealing and for comparing a retry).
            batch = [replace(v, event=blind_event(v.event)) for v in batch]
        mode = "optimistic"
        for _attempt in range(self.retries + 1):
            async with self.pool.acquire() as conn:
                try:
                    appended = await self._attempt(conn, principal, case_id, expected_version, batch, mode)
                except appends.LostRace as race:
                    self.on_conflict()
                    original = await self._after_lost_race(conn, case_id, expected_version, batch, race)
                    if original is not None:
                        return original
                    mode = "contended"
                    continue
                except _Refused as refused:
                    if refused.trusted:
                        return await self._refuse(conn, principal, case_id, batch, refused.refused)
                    mode = "verified"
                    continue
            self.on_appended([e["type"] for e in appended.events])
            return appended
        async with self.pool.acquire() as conn:
            raise version_conflict(None, await store.current_version(conn, case_id))

    async def _provider_sees_case(self, principal: Principal, case_id: str) -> None:
        """A provider learns nothing of a case that holds no open PBA of its own: not whether
        it exists, nor its version, nor which event ids it holds. Checked before any version or
        idempotency answer, and worded as for a case that does not exist."""
        async with self.pool.acquire() as conn:
            if not await providers.holds_open_pba_of(conn, case_id, principal.provider_id or ""):
                raise ServiceError("case_not_found", f"no case {case_id} with an open PBA of this provider")

    async def _after_lost_race(
        self,
        conn: asyncpg.Connection,
        case_id: str,
        expected_version: int | None,
        batch: Sequence[Validated],
        race: appends.LostRace,
    ) -> Appended | None:
        """The original's answer when this was a retry of it; a conflict when the client
        named a version that is gone; otherwise the caller tries again."""
        original = await original_answer(conn, case_id, batch, self.opened)
        if original is not None:
            return original
        if race.head_moved and expected_version is not None:
            current = race.current_version
            raise version_conflict(expected_version, current or await store.current_version(conn, case_id))
        return None

    async def _refuse(
        self,
        conn: asyncpg.Connection,
        principal: Principal,
        case_id: str,
        batch: Sequence[Validated],
        refused: Refused,
    ) -> Appended:
        """A refusal decided against a state that already held this batch's original (a retry
        that raced it) is no refusal: the original answers."""
        original = await original_answer(conn, case_id, batch, self.opened)
        if original is not None:
            return original
        self.on_refusal(refused.refusal.rule)
        if keeps_claim(refused):
            await keep_refused_claim(conn, principal, case_id, refused)
        raise refusal_error(refused)

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
                at = recording_time(head, self.now())
                after = self._decide(principal, state, None, batch, head.version, at, trusted=False)
                return await self._write(conn, case_id, head, state, after, batch, at)
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
        plan_head = head.plan_head()
        at = recording_time(plan_head, self.now())
        after = self._decide(principal, state, history, batch, head.version, at, trusted=True)
        return await self._write(conn, case_id, plan_head, state, after, batch, at)

    def _decide(
        self,
        principal: Principal,
        state: CaseState,
        history: list[Fact] | None,
        batch: Sequence[Validated],
        version: int,
        at: datetime,
        *,
        trusted: bool,
    ) -> CaseState:
        outcome = decide_batch(
            state,
            history,
            batch,
            self.policy,
            version=version,
            at=at,
            keep_going=False,
            pre_check=provider_check(principal),
        )
        if outcome.refused:
            raise _Refused(outcome.refused[0], trusted=trusted)
        return outcome.state

    async def _write(
        self,
        conn: asyncpg.Connection,
        case_id: str,
        head: Head,
        before: CaseState,
        after: CaseState,
        batch: Sequence[Validated],
        at: datetime,
    ) -> Appended:
        """Plan (with the `recorded_at` the batch was decided with) and write; cache the result."""
        cached = self.cache.get(case_id)
        rows = (cached.clock_row, cached.ledger_rows) if cached and cached.version == head.version else None
        sealed = await self._sealed(conn, case_id, batch)
        plan = plan_append(case_id, head, before, sealed, after, self.project, now=at, rows_before=rows)
        positions = await appends.write(conn, appends.AppendCall.of(plan, FOLD_VERSION, alone=True))
        self.cache.put(case_id, CachedCase.written(plan, head))
        return Appended(
            case_id,
            plan.new_version,
            [
                {"event_id": str(e.event_id), "version": e.version, "position": p, "type": e.type}
                for e, p in zip(plan.events, positions, strict=True)
            ],
        )

    async def _sealed(
        self, conn: asyncpg.Connection, case_id: str, batch: Sequence[Validated]
    ) -> Sequence[Validated]:
        """The batch as stored: each personal value sealed with the case's data key (the
        key made with the case's first personal value); as is without keys."""
        if self.keys is None:
            return batch
        sealed, key = [], None
        for v in batch:
            if not holds_personal(v.event.TYPE, v.data, v.metadata):
                sealed.append(v)
                continue
            key = key or await self.keys.for_append(conn, case_id)
            data, metadata = seal_event_data(v.event.TYPE, v.data, v.metadata, case_id, v.event_id, key)
            sealed.append(replace(v, data=data, metadata=metadata))
        return sealed
