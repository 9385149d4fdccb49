"""Each case's data key: created with the case's first personal value, unwrapped on demand.

Why a service: the store holds only wrapped keys, the master key (a key file or a
KMS, `app.domain.data_keys.MasterKey`) holds the means to unwrap them, and both the
append path (seal) and the reads (open) need the plain key. Unwrapped keys are kept
in memory for a bounded number of cases, each with the wrapped bytes it came from,
so a hot case pays no unwrap (nor a KMS round trip) per request.

A retention run (another process) may destroy a key at any moment, so a remembered key
is trusted for `ttl_s` seconds after the database last confirmed it (5 s, as API keys);
then it is confirmed again, the page's cases in one query, and an unchanged key is not
unwrapped again (no KMS call). So a running service reads "[destroyed]" at most `ttl_s`
after the run destroyed the key (asking the database on every read instead costs a
query per request: docs/privacy.md). A personal value appended in those seconds is
sealed with a key that exists nowhere else any more, so it is unreadable too, and the
append path's own rule refuses personal values once `CaseRecordsDestroyed` is recorded.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import NamedTuple

import asyncpg

from app.domain.data_keys import MasterKey
from app.domain.retention import DESTROYED_RULE
from app.domain.sealing import new_data_key, open_event_data
from app.service.errors import ServiceError
from app.store import data_keys as store
from app.store.streams import StoredEvent

__all__ = ["DESTROYED_RULE", "CaseKeys", "OfferedKey", "open_stored"]

APPEND_TTL_S = 5.0


class OfferedKey(NamedTuple):
    """A fresh data key and its wrapped bytes, offered to the store for a case."""

    key: bytes
    wrapped: bytes


class CaseKeys:
    def __init__(
        self,
        master: MasterKey,
        *,
        max_cached: int = 10_000,
        ttl_s: float = APPEND_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.master = master
        self.max_cached = max_cached
        self.ttl_s = ttl_s
        self.clock = clock
        # case_id -> (data key, the wrapped bytes it was unwrapped from, when last confirmed)
        self._keys: OrderedDict[str, tuple[bytes, bytes, float]] = OrderedDict()

    async def for_append(self, conn: asyncpg.Connection, case_id: str) -> bytes:
        """The key that seals the case's new personal values; the case's first one creates it
        (the first writer's key wins a race). A destroyed case takes no personal value."""
        key = self._fresh(case_id)
        if key is not None:
            return key
        # One round trip: the stored key, or this fresh one when the case has none yet.
        offered = self.offer(case_id)
        stored = await store.put_or_get(conn, case_id, offered.wrapped, self.master.key_id)
        return self.settle(case_id, offered, stored)

    def fresh_for_append(self, case_id: str) -> bytes | None:
        """The remembered key when confirmed within `ttl_s` (no query)."""
        return self._fresh(case_id)

    def knows(self, case_id: str) -> bool:
        """Whether a key of the case is remembered, confirmed lately or not."""
        return case_id in self._keys

    def offer(self, case_id: str) -> OfferedKey:
        """A fresh data key for a case that may have none yet, wrapped, not stored: the
        append path stores it with the append itself (`store.put_with_append`)."""
        key = new_data_key()
        return OfferedKey(key, self.master.wrap(key, case_id))

    def settle(self, case_id: str, offered: OfferedKey, stored: bytes | None) -> bytes:
        """The case's key once the store answered an offer: the offered one when it was
        stored (no unwrap), else the stored one. A destroyed case takes no personal value."""
        if stored is None:
            self.forget(case_id)
            raise ServiceError(
                "rule_violation",
                f"case {case_id}'s records were destroyed (retention): it takes no personal data",
                rule=DESTROYED_RULE,
            )
        if stored == offered.wrapped:
            return self._remember(case_id, offered.key, stored)
        return self._opened_key(case_id, stored)

    async def for_append_many(
        self, conn: asyncpg.Connection, case_ids: Sequence[str]
    ) -> dict[str, bytes | None]:
        """`for_append` for a batch of cases (the importer): one query for those not
        confirmed lately; None for a destroyed case (the caller refuses its personal values)."""
        keys: dict[str, bytes | None] = {c: self._fresh(c) for c in dict.fromkeys(case_ids)}
        missing = [c for c, key in keys.items() if key is None]
        if missing:
            fresh = {c: self.master.wrap(new_data_key(), c) for c in missing}
            stored = await store.put_or_get_many(conn, fresh, self.master.key_id)
            for case_id in missing:
                wrapped = stored[case_id]
                keys[case_id] = self._opened_key(case_id, wrapped) if wrapped else None
                if wrapped is None:
                    self.forget(case_id)
        return keys

    async def for_read(self, conn: asyncpg.Connection, case_id: str) -> bytes | None:
        """The key that opens the case's sealed values; None once destroyed; `NEVER_SEALED`
        (empty) when the case holds no sealed value."""
        return (await self.for_read_many(conn, [case_id]))[case_id]

    async def for_read_many(
        self, conn: asyncpg.Connection, case_ids: Sequence[str]
    ) -> dict[str, bytes | None]:
        """`for_read` for the cases of a page: those not confirmed within `ttl_s` in one query."""
        keys: dict[str, bytes | None] = {c: self._fresh(c) for c in dict.fromkeys(case_ids)}
        stale = [c for c, key in keys.items() if key is None]
        if stale:
            wrapped = await store.wrapped_keys(conn, stale)
            for case_id in stale:
                stored = wrapped.get(case_id, store.NEVER_SEALED)
                if stored:
                    keys[case_id] = self._opened_key(case_id, stored)
                else:  # destroyed (None) or never sealed (empty)
                    self.forget(case_id)
                    keys[case_id] = stored
        return keys

    def forget(self, case_id: str) -> None:
        self._keys.pop(case_id, None)

    async def opened(self, conn: asyncpg.Connection, events: Sequence[StoredEvent]) -> list[StoredEvent]:
        """The events as an authorized reader sees them: personal values opened, or
        "[destroyed]" once the case's key is gone."""
        if not events:
            return []
        keys = await self.for_read_many(conn, [e.case_id for e in events])
        return [open_stored(e, keys[e.case_id]) for e in events]

    def _fresh(self, case_id: str) -> bytes | None:
        """The remembered key when it was confirmed within `ttl_s`."""
        entry = self._keys.get(case_id)
        if entry is None or self.clock() - entry[2] > self.ttl_s:
            return None
        self._keys.move_to_end(case_id)
        return entry[0]

    def _opened_key(self, case_id: str, wrapped: bytes) -> bytes:
        """The data key of these wrapped bytes: the remembered one when they are the same
        (no unwrap, no KMS call), else unwrapped now; confirmed as of now."""
        entry = self._keys.get(case_id)
        key = entry[0] if entry is not None and entry[1] == wrapped else self.master.unwrap(wrapped, case_id)
        return self._remember(case_id, key, wrapped)

    def _remember(self, case_id: str, key: bytes, wrapped: bytes) -> bytes:
        """The key, confirmed as of now; the least recently used case goes beyond `max_cached`."""
        self._keys[case_id] = (key, wrapped, self.clock())
        self._keys.move_to_end(case_id)
        if len(self._keys) > self.max_cached:
            self._keys.popitem(last=False)
        return key


def open_stored(event: StoredEvent, key: bytes | None) -> StoredEvent:
    """One stored event opened with its case's key (`NEVER_SEALED`: stored clear, as is)."""
    if key == store.NEVER_SEALED:
        return event
    data, metadata = open_event_data(
        event.type, event.data, event.metadata, event.case_id, event.event_id, key
    )
    return replace(event, data=data, metadata=metadata)
