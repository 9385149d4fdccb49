"""The one command handler: read the case, fold, decide, append; retry a lost race.

Routes and the bulk importer both come through here, so every event meets the
same schema, the same deciders and the same idempotency rules.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import orjson
from pydantic import ValidationError

from app.domain.case import (
    FOLD_VERSION,
    SNAPSHOT,
    CaseState,
    decide_case,
    decide_retraction,
    evolve_case,
    replay,
)
from app.domain.facts import Fact, Refusal
from app.domain.hashing import event_hash
from app.domain.ledger import pba_provider
from app.domain.policy import PolicyTable
from app.events import EventData, EventRetracted
from app.events.registry import UnknownEventType, UnsupportedSchemaVersion, parse_event
from app.projections.closure_clock import clock_row
from app.projections.ledger import ledger_rows
from app.service.errors import ServiceError, validation_errors
from app.service.keys import Principal
from app.service.reads import fold_case, to_fact
from app.service.state_cache import CachedCase, StateCache
from app.store import streams as store

CLIENT_METADATA_KEYS_SET_BY_SERVER = ("actor",)
# A snapshot is written when this many versions have passed since the last one;
# between snapshots a cold reader folds at most this many events onto it.
SNAPSHOT_EVERY = 16
PROVIDER_EVENT_TYPES = frozenset({"PBAMilestoneReached"})


@dataclass(frozen=True, slots=True)
class Proposed:
    """An event as a client sent it, before validation."""

    type: str
    data: dict[str, Any]
    event_id: UUID | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Validated:
    event_id: UUID
    client_supplied_id: bool
    event: EventData
    data: dict[str, Any]
    metadata: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Appended:
    case_id: str
    version: int
    events: list[dict[str, Any]]
    replayed: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "version": self.version,
            "events": self.events,
            "idempotent_replay": self.replayed,
        }


def validate(proposed: Sequence[Proposed], principal: Principal) -> list[Validated]:
    """Schema checks for the whole batch; 422 `invalid_event` names each bad field."""
    validated, errors = [], []
    for index, item in enumerate(proposed):
        try:
            event = parse_event(item.type, item.data)
        except UnknownEventType:
            errors.append(
                {
                    "loc": ["events", index, "type"],
                    "msg": f"unknown event type {item.type!r}",
                    "type": "unknown_event_type",
                }
            )
            continue
        except (ValidationError, UnsupportedSchemaVersion) as exc:
            found = (
                validation_errors(exc.errors())
                if isinstance(exc, ValidationError)
                else [{"loc": [], "msg": str(exc), "type": "schema_version"}]
            )
            errors.extend({**e, "loc": ["events", index, "data", *e["loc"]]} for e in found)
            continue
        metadata = {k: v for k, v in item.metadata.items() if k not in CLIENT_METADATA_KEYS_SET_BY_SERVER}
        metadata["actor"] = principal.actor
        data = event.to_json_dict()
        unstorable = _unstorable(data, metadata)
        if unstorable:
            errors.append({"loc": ["events", index], "msg": unstorable, "type": "unstorable"})
            continue
        validated.append(
            Validated(item.event_id or uuid4(), item.event_id is not None, event, data, metadata)
        )
    if errors:
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors[:5])
        raise ServiceError("invalid_event", detail, errors=errors)
    ids = [v.event_id for v in validated]
    if len(set(ids)) != len(ids):
        raise ServiceError("invalid_event", "the same event_id appears twice in one append")
    return validated


def _unstorable(data: dict[str, Any], metadata: dict[str, Any]) -> str | None:
    """PostgreSQL's jsonb holds no NUL character and orjson no integer past 64 bits."""
    try:
        encoded = orjson.dumps([data, metadata])
    except (orjson.JSONEncodeError, TypeError) as exc:
        return f"not storable as JSON: {exc}"
    if b"\\u0000" in encoded:
        return "a NUL character (U+0000) cannot be stored"
    return None


def _version_conflict(expected: int | None, current: int) -> ServiceError:
    detail = (
        f"expected version {expected} but the case is at version {current}"
        if expected is not None
        else "the case kept changing under this append; try again"
    )
    return ServiceError("version_conflict", detail, current_version=current)


class _Refused(Exception):
    """A decider said no; carried out of any transaction before the claim is kept."""

    def __init__(
        self, refusal: Refusal, index: int, item: Validated, state: CaseState, *, trusted: bool
    ) -> None:
        super().__init__(refusal.detail)
        self.refusal, self.index, self.item, self.state = refusal, index, item, state
        self.trusted = trusted  # decided on a state read from the database, not only cached


def _provider_refusal(principal: Principal, state: CaseState, item: Validated) -> Refusal | None:
    """A provider key touches only its own PBA; another's is answered as not found."""
    if principal.role != "provider":
        return None
    if pba_provider(state.ledger, getattr(item.event, "pba_id", "")) == principal.provider_id:
        return None
    return Refusal("provider_owns_pba", "no open PBA of this provider on this case", code="case_not_found")


def _refusal_problem(refusal: Refusal, index: int, event: Validated) -> ServiceError:
    if refusal.code == "case_not_found":
        return ServiceError("case_not_found", refusal.detail, rule=refusal.rule, event_index=index)
    return ServiceError(
        refusal.code,
        refusal.detail,
        rule=refusal.rule,
        event_index=index,
        event_type=event.event.TYPE,
    )


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
    ) -> None:
        self.pool = pool
        self.cache = cache if cache is not None else StateCache()
        self.policy = policy
        self.retries = retries
        self.now = now
        self.on_refusal = on_refusal or (lambda rule: None)
        self.on_conflict = on_conflict or (lambda: None)
        self.on_appended = on_appended or (lambda types: None)

    async def append(
        self,
        principal: Principal,
        case_id: str,
        expected_version: int | None,
        proposed: Sequence[Proposed],
    ) -> Appended:
        if principal.role == "provider" and any(p.type not in PROVIDER_EVENT_TYPES for p in proposed):
            raise ServiceError(
                "forbidden",
                "a provider key may append only PBAMilestoneReached for its own open PBA",
            )
        batch = validate(proposed, principal)
        client_ids = [v.event_id for v in batch if v.client_supplied_id]
        mode = "optimistic"
        for _attempt in range(self.retries + 1):
            async with self.pool.acquire() as conn:
                try:
                    appended = await self._attempt(
                        conn, principal, case_id, expected_version, batch, client_ids, mode=mode
                    )
                except asyncpg.UniqueViolationError as exc:
                    self.on_conflict()
                    if exc.constraint_name == "events_case_version_key" and expected_version is not None:
                        # A retry that overlapped its original finds the original's answer.
                        head = await store.load_head(conn, case_id, client_ids)
                        if head.existing:
                            return self._replay_of_earlier_append(case_id, batch, head.existing)
                        raise _version_conflict(expected_version, head.version) from None
                    mode = "contended"
                    continue
                except _Refused as refused:
                    if refused.trusted:
                        await self._refuse(conn, principal, case_id, refused)
                    mode = "verified"
                    continue
            self.on_appended([e["type"] for e in appended.events])
            return appended
        raise _version_conflict(None, await self._current_version(case_id))

    async def _refuse(
        self, conn: asyncpg.Connection, principal: Principal, case_id: str, refused: _Refused
    ) -> None:
        self.on_refusal(refused.refusal.rule)
        if refused.item.event.TYPE == "PBAMilestoneReached" and refused.refusal.code == "rule_violation":
            await self._keep_refused_claim(
                conn, principal, case_id, refused.state, refused.item, refused.refusal
            )
        raise _refusal_problem(refused.refusal, refused.index, refused.item)

    async def _current_version(self, case_id: str) -> int:
        async with self.pool.acquire() as conn:
            return await store.current_version(conn, case_id)

    async def _attempt(
        self,
        conn: asyncpg.Connection,
        principal: Principal,
        case_id: str,
        expected_version: int | None,
        batch: Sequence[Validated],
        client_ids: list[UUID],
        *,
        mode: str,
    ) -> Appended:
        """One read-decide-append.

        optimistic: the cached state when it may be current (one round trip; a stale
        cache loses the race on (case_id, version), and a refusal is re-checked
        against the database before it is believed). verified: the case's head is
        read first. contended: after a lost race, writers of this case (only) queue
        on a transaction-scoped advisory lock, so a hot case converges.
        """
        if mode == "optimistic":
            head_state = self._cached_head(case_id, expected_version, batch, client_ids)
            if head_state is not None:
                head, state = head_state
                new_state = self._decide(principal, state, None, batch, head.version, trusted=False)
                return await self._write(conn, case_id, head, state, new_state, batch)
        if mode != "contended":
            return await self._read_decide_append(
                conn, principal, case_id, expected_version, batch, client_ids
            )
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", case_id)
            return await self._read_decide_append(
                conn, principal, case_id, expected_version, batch, client_ids
            )

    def _cached_head(
        self,
        case_id: str,
        expected_version: int | None,
        batch: Sequence[Validated],
        client_ids: list[UUID],
    ) -> tuple[store.CaseHead, CaseState] | None:
        """The head as this process last wrote it, when an optimistic append may use it.

        Not with client event_ids (a retry must find the original) nor retractions
        (they need the whole history), nor when the client expects another version.
        """
        cached = self.cache.get(case_id)
        if (
            cached is None
            or client_ids
            or cached.last_hash is None
            or any(isinstance(v.event, EventRetracted) for v in batch)
            or (expected_version is not None and expected_version != cached.version)
        ):
            return None
        head = store.CaseHead(
            cached.version,
            cached.last_hash,
            cached.last_recorded_at,
            cached.state_version,
            FOLD_VERSION,
            None,
            (),
        )
        return head, cached.state

    async def _read_decide_append(
        self,
        conn: asyncpg.Connection,
        principal: Principal,
        case_id: str,
        expected_version: int | None,
        batch: Sequence[Validated],
        client_ids: list[UUID],
    ) -> Appended:
        head = await store.load_head(conn, case_id, client_ids, cached_version=self.cache.version_of(case_id))
        if head.existing:
            return self._replay_of_earlier_append(case_id, batch, head.existing)
        if expected_version is not None and expected_version != head.version:
            raise _version_conflict(expected_version, head.version)
        state, history = await self._state(conn, case_id, head, batch)
        new_state = self._decide(principal, state, history, batch, head.version, trusted=True)
        return await self._write(conn, case_id, head, state, new_state, batch)

    async def _state(
        self,
        conn: asyncpg.Connection,
        case_id: str,
        head: store.CaseHead,
        batch: Sequence[Validated],
    ) -> tuple[CaseState, list[Fact] | None]:
        """The current state; with the whole history too when a retraction needs it."""
        if any(isinstance(v.event, EventRetracted) for v in batch):
            history = [to_fact(e) for e in await store.read_stream(conn, case_id)] if head.version else []
            return replay(history), history
        if head.version == 0:
            return CaseState(), None
        state = await fold_case(
            conn,
            case_id,
            version=head.version,
            state_version=head.state_version,
            fold_version=head.fold_version,
            snapshot=head.state,
            cache=self.cache,
        )
        return state, None

    def _decide(
        self,
        principal: Principal,
        state: CaseState,
        history: list[Fact] | None,
        batch: Sequence[Validated],
        version: int,
        *,
        trusted: bool,
    ) -> CaseState:
        at = self.now()
        for index, item in enumerate(batch):
            refusal = _provider_refusal(principal, state, item)
            if refusal is not None:
                pass
            elif isinstance(item.event, EventRetracted):
                assert history is not None
                refusal = decide_retraction(history, item.event)
            else:
                refusal = decide_case(state, item.event, self.policy)
            if refusal is not None:
                raise _Refused(refusal, index, item, state, trusted=trusted)
            fact = Fact(item.event_id, version + index + 1, at, item.event)
            if history is not None:
                history.append(fact)
                state = (
                    replay(history) if isinstance(item.event, EventRetracted) else evolve_case(state, fact)
                )
            else:
                state = evolve_case(state, fact)
        return state

    async def _keep_refused_claim(
        self,
        conn: asyncpg.Connection,
        principal: Principal,
        case_id: str,
        state: CaseState,
        item: Validated,
        refusal: Refusal,
    ) -> None:
        """A refused milestone claim is kept once, so the ledger can list it with its reason."""
        claim = orjson.dumps({"type": item.event.TYPE, "data": item.data}, option=orjson.OPT_SORT_KEYS)
        key = str(item.event_id) if item.client_supplied_id else hashlib.sha256(claim).hexdigest()
        pba_id = item.data.get("pba_id")
        await conn.execute(
            store.REFUSED_CLAIM_SQL,
            case_id,
            key,
            pba_id,
            pba_provider(state.ledger, pba_id) or principal.provider_id,
            item.event.TYPE,
            item.data,
            refusal.rule,
            refusal.detail,
            principal.actor,
        )

    async def _write(
        self,
        conn: asyncpg.Connection,
        case_id: str,
        head: store.CaseHead,
        before: CaseState,
        after: CaseState,
        batch: Sequence[Validated],
    ) -> Appended:
        recorded_at = self.now()
        if head.last_recorded_at is not None and recorded_at < head.last_recorded_at:
            recorded_at = head.last_recorded_at
        previous, new_events = head.last_hash, []
        for index, item in enumerate(batch):
            previous = event_hash(
                previous,
                case_id=case_id,
                version=head.version + index + 1,
                event_id=item.event_id,
                type=item.event.TYPE,
                schema_version=item.event.SCHEMA_VERSION,
                data=item.data,
                metadata=item.metadata,
                recorded_at=recorded_at,
            )
            new_events.append(
                store.NewEvent(
                    item.event_id,
                    item.event.TYPE,
                    item.event.SCHEMA_VERSION,
                    item.data,
                    item.metadata,
                    previous,
                )
            )
        clock_before, ledger_before = self._rows_before(case_id, head.version, before)
        # Most events touch only one of the two folds; an untouched fold keeps its rows.
        clock_after = clock_before if after.clock is before.clock else clock_row(after, self.policy)
        ledger_after = ledger_before if after.ledger is before.ledger else ledger_rows(after, self.policy)
        new_version = head.version + len(batch)
        snapshot_due = (
            head.version == 0
            or head.fold_version != FOLD_VERSION
            or new_version - head.state_version >= SNAPSHOT_EVERY
            or any(isinstance(v.event, EventRetracted) for v in batch)
        )
        positions = await store.append(
            conn,
            case_id=case_id,
            expected_version=head.version,
            events=new_events,
            recorded_at=recorded_at,
            fold_version=FOLD_VERSION,
            state=SNAPSHOT.dump_json(after).decode() if snapshot_due else None,
            clock_row=clock_after if clock_after != clock_before else None,
            ledger_rows=ledger_after if ledger_after != ledger_before else None,
        )
        self.cache.put(
            case_id,
            CachedCase(
                new_version,
                after,
                clock_after,
                ledger_after,
                last_hash=previous,
                last_recorded_at=recorded_at,
                state_version=new_version if snapshot_due else head.state_version,
            ),
        )
        return Appended(
            case_id,
            head.version + len(batch),
            [
                {
                    "event_id": str(e.event_id),
                    "version": head.version + i + 1,
                    "position": p,
                    "type": e.type,
                }
                for i, (e, p) in enumerate(zip(new_events, positions, strict=True))
            ],
        )

    def _rows_before(
        self, case_id: str, version: int, before: CaseState
    ) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        cached = self.cache.get(case_id)
        if cached is not None and cached.version == version:
            return cached.clock_row, cached.ledger_rows
        return clock_row(before, self.policy), ledger_rows(before, self.policy)

    def _replay_of_earlier_append(
        self, case_id: str, batch: Sequence[Validated], existing: Sequence[store.StoredEvent]
    ) -> Appended:
        """Same event_ids and same content: the original answer. Anything else: 409."""
        by_id = {e.event_id: e for e in existing}
        same = len(existing) == len(batch) and all(
            (stored := by_id.get(v.event_id)) is not None
            and stored.case_id == case_id
            and stored.type == v.event.TYPE
            and stored.data == v.data
            for v in batch
        )
        if not same:
            ids = ", ".join(str(e.event_id) for e in existing)
            raise ServiceError(
                "idempotency_conflict",
                f"event_id {ids} was already recorded with other content or in another append",
            )
        ordered = sorted(existing, key=lambda e: e.version)
        return Appended(
            case_id,
            ordered[-1].version,
            [
                {
                    "event_id": str(e.event_id),
                    "version": e.version,
                    "position": e.position,
                    "type": e.type,
                }
                for e in ordered
            ],
            replayed=True,
        )
