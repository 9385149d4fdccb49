"""The one append plan: what an accepted batch writes, computed without I/O.

The service, the importer and the rebuild all come through here, so the hash
chain, the versions, `recorded_at`, the snapshot cadence and which read-model
rows changed are decided once. The caller hands the plan to
`app.store.streams` (one `caseledger_append` call) and keeps `cached` rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from app.domain.case import FOLD_VERSION, SNAPSHOT, CaseState
from app.domain.frozen import quick_init
from app.domain.hashing import GENESIS, event_hash
from app.events import EventRetracted
from app.events.types import EventData

# A snapshot is written when this many versions have passed since the last one;
# between snapshots a cold reader folds at most this many events onto it. Since the
# clock keeps its log, a snapshot grows with the case (a 46-event case: 21.6 kB, 249 us
# to dump, about 0.5-1 ms of PostgreSQL to store): every 32 versions instead of 16, HTTP
# commands ran 10 % faster (docs/performance.md, issue 10, "Ninth session"). A cached
# state needs no snapshot; a cold one folds at most 31 events more, about 0.5 ms (the
# replay benchmark: 0.83 ms for a 50-event case, its read included).
SNAPSHOT_EVERY = 32

ClockRow = dict[str, Any] | None
LedgerRows = list[dict[str, Any]]


class Accepted(Protocol):
    """An accepted event as the plan needs it; `data`/`metadata` in `canonical_json` form."""

    @property
    def event_id(self) -> UUID: ...
    @property
    def event(self) -> EventData: ...
    @property
    def data(self) -> dict[str, Any]: ...
    @property
    def metadata(self) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class Projector:
    """State -> read-model rows (`app.projections.projector` builds it for a policy)."""

    clock: Callable[[CaseState], ClockRow]
    ledger: Callable[[CaseState], LedgerRows]

    def rows(self, state: CaseState) -> tuple[ClockRow, LedgerRows]:
        return self.clock(state), self.ledger(state)


@dataclass(frozen=True, slots=True)
class Head:
    """Where the case stands in the store (all zero / GENESIS for a new case)."""

    version: int = 0
    last_hash: str = GENESIS
    last_recorded_at: datetime | None = None
    state_version: int = 0
    fold_version: int | None = None


@quick_init  # one per event appended or imported: the cheaper constructor counts
@dataclass(frozen=True, slots=True)
class PlannedEvent:
    event_id: UUID
    version: int
    type: str
    schema_version: int
    data: dict[str, Any]
    metadata: dict[str, Any]
    hash: str


@dataclass(frozen=True, slots=True)
class AppendPlan:
    case_id: str
    expected_version: int
    events: tuple[PlannedEvent, ...]
    recorded_at: datetime
    state: CaseState  # after the batch
    state_json: str | None  # the snapshot, when one is due
    clock_changed: ClockRow  # the rows to write, None when unchanged
    ledger_changed: LedgerRows | None
    clock_after: ClockRow  # the rows after the batch, changed or not (for caches)
    ledger_after: LedgerRows

    @property
    def new_version(self) -> int:
        return self.expected_version + len(self.events)

    @property
    def last_hash(self) -> str:
        return self.events[-1].hash

    def head_after(self, head: Head) -> Head:
        """The `case_state` head the store holds once this plan is written."""
        snapshot = self.state_json is not None
        return Head(
            self.new_version,
            self.last_hash,
            self.recorded_at,
            self.new_version if snapshot else head.state_version,
            FOLD_VERSION if snapshot else head.fold_version,
        )


def plan_append(
    case_id: str,
    head: Head,
    before: CaseState,
    accepted: Sequence[Accepted],
    after: CaseState,
    project: Projector,
    *,
    now: datetime,
    rows_before: tuple[ClockRow, LedgerRows] | None = None,
) -> AppendPlan:
    """The plan of appending `accepted` (decided on `before`, leaving `after`) at `head`.

    `rows_before`: the read-model rows at `head` when the caller has them cached.
    """
    recorded_at = recording_time(head, now)
    events = tuple(_chain(case_id, head, accepted, recorded_at))
    clock_before, ledger_before = rows_before or _rows_at(head, before, project)
    # Most events touch only one of the two folds; an untouched fold keeps its rows.
    clock_after = clock_before if after.clock is before.clock else project.clock(after)
    ledger_after = ledger_before if after.ledger is before.ledger else project.ledger(after)
    due = _snapshot_due(head, head.version + len(events), accepted)
    return AppendPlan(
        case_id,
        head.version,
        events,
        recorded_at,
        after,
        SNAPSHOT.dump_json(after).decode() if due else None,
        clock_after if clock_after != clock_before else None,
        ledger_after if ledger_after != ledger_before else None,
        clock_after,
        ledger_after,
    )


def recording_time(head: Head, now: datetime) -> datetime:
    """`recorded_at` of the next append: now, never before the case's last event (a clock
    that stepped back must not reorder a case). Decide with it: folds may keep it."""
    return now if head.last_recorded_at is None else max(now, head.last_recorded_at)


def _chain(
    case_id: str, head: Head, accepted: Sequence[Accepted], recorded_at: datetime
) -> list[PlannedEvent]:
    previous, planned = head.last_hash, []
    for version, item in enumerate(accepted, start=head.version + 1):
        event = item.event
        previous = event_hash(
            previous,
            case_id=case_id,
            version=version,
            event_id=item.event_id,
            type=event.TYPE,
            schema_version=event.SCHEMA_VERSION,
            data=item.data,
            metadata=item.metadata,
            recorded_at=recorded_at,
        )
        planned.append(
            PlannedEvent(
                item.event_id, version, event.TYPE, event.SCHEMA_VERSION, item.data, item.metadata, previous
            )
        )
    return planned


def _rows_at(head: Head, state: CaseState, project: Projector) -> tuple[ClockRow, LedgerRows]:
    return (None, []) if head.version == 0 else project.rows(state)


def _snapshot_due(head: Head, new_version: int, accepted: Sequence[Accepted]) -> bool:
    """A new case, a snapshot of another fold, a retraction, or SNAPSHOT_EVERY versions."""
    return (
        head.version == 0
        or head.fold_version != FOLD_VERSION
        or new_version - head.state_version >= SNAPSHOT_EVERY
        or any(isinstance(item.event, EventRetracted) for item in accepted)
    )
