"""Each case's data key: created with the case's first personal value, unwrapped on demand.

Why a service: the store holds only wrapped keys, the master key (a key file or a
KMS, `app.domain.data_keys.MasterKey`) holds the means to unwrap them, and both the
append path (seal) and the reads (open) need the plain key. Unwrapped keys are kept
in memory for a bounded number of cases, so a hot case pays no unwrap (nor a KMS
round trip) per request; destroying a key (retention) also forgets it here.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import replace

import asyncpg

from app.domain.data_keys import MasterKey
from app.domain.sealing import new_data_key, open_event_data
from app.service.errors import ServiceError
from app.store import data_keys as store
from app.store.streams import StoredEvent

DESTROYED_RULE = "case_records_destroyed"


class CaseKeys:
    def __init__(self, master: MasterKey, *, max_cached: int = 10_000) -> None:
        self.master = master
        self.max_cached = max_cached
        self._keys: OrderedDict[str, bytes] = OrderedDict()

    async def for_append(self, conn: asyncpg.Connection, case_id: str) -> bytes:
        """The key that seals the case's new personal values; the case's first one creates it
        (the first writer's key wins a race). A destroyed case takes no personal value."""
        key = self._cached(case_id)
        if key is not None:
            return key
        # One round trip: the stored key, or this fresh one when the case has none yet.
        fresh = self.master.wrap(new_data_key(), case_id)
        wrapped = await store.put_or_get(conn, case_id, fresh, self.master.key_id)
        if wrapped is None:
            raise ServiceError(
                "rule_violation",
                f"case {case_id}'s records were destroyed (retention): it takes no personal data",
                rule=DESTROYED_RULE,
            )
        return self._remember(case_id, self.master.unwrap(wrapped, case_id))

    async def for_append_many(
        self, conn: asyncpg.Connection, case_ids: Sequence[str]
    ) -> dict[str, bytes | None]:
        """`for_append` for a batch of cases (the importer): one query for those not in
        memory; None for a destroyed case (the caller refuses its personal values)."""
        keys: dict[str, bytes | None] = {c: self._cached(c) for c in dict.fromkeys(case_ids)}
        missing = [c for c, key in keys.items() if key is None]
        if missing:
            fresh = {c: self.master.wrap(new_data_key(), c) for c in missing}
            stored = await store.put_or_get_many(conn, fresh, self.master.key_id)
            for case_id in missing:
                wrapped = stored[case_id]
                keys[case_id] = wrapped and self._remember(case_id, self.master.unwrap(wrapped, case_id))
        return keys

    async def for_read(self, conn: asyncpg.Connection, case_id: str) -> bytes | None:
        """The key that opens the case's sealed values; None once destroyed; `NEVER_SEALED`
        (empty) when the case holds no sealed value."""
        key = self._cached(case_id)
        if key is not None:
            return key
        wrapped = await store.wrapped_key(conn, case_id)
        if not wrapped:
            return wrapped
        return self._remember(case_id, self.master.unwrap(wrapped, case_id))

    def forget(self, case_id: str) -> None:
        self._keys.pop(case_id, None)

    async def opened(self, conn: asyncpg.Connection, events: Sequence[StoredEvent]) -> list[StoredEvent]:
        """The events as an authorized reader sees them: personal values opened, or
        "[destroyed]" once the case's key is gone."""
        keys: dict[str, bytes | None] = {}
        for case_id in dict.fromkeys(e.case_id for e in events):
            keys[case_id] = await self.for_read(conn, case_id)
        return [open_stored(e, keys[e.case_id]) for e in events]

    def _cached(self, case_id: str) -> bytes | None:
        key = self._keys.get(case_id)
        if key is not None:
            self._keys.move_to_end(case_id)
        return key

    def _remember(self, case_id: str, key: bytes) -> bytes:
        self._keys[case_id] = key
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
