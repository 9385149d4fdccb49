"""What the fault tests and scripts share: the record of acknowledged appends and the checks.

- `Ledger`: every append a client saw acknowledged (201, or the idempotent replay of one),
  with the version and position the service answered, and the client's own `load_id`
  (in `metadata`, one per logical append, the same on every retry of it).
- `check_store`: lost = an acknowledged event that is not stored as answered; duplicated =
  a logical append (`load_id`) stored more than once; gaps = versions not 1..n.
- `read_model_drift`: each case folded from scratch (`replay` of its whole stream) against
  its `case_state`, `closure_clock` and `ledger_pba` rows.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import orjson

from app.domain.case import replay
from app.domain.policy import PolicyTable
from app.projections.closure_clock import STORED_COLUMNS, clock_row, stored_clock_row
from app.projections.ledger import ledger_rows
from app.service.case_keys import CaseKeys
from app.service.master_key_file import master_key_of
from app.service.reads import to_fact
from app.settings import Settings
from app.store import streams as store


@dataclass(frozen=True, slots=True)
class Ack:
    case_id: str
    version: int
    position: int
    load_id: str | None


@dataclass(slots=True)
class Ledger:
    acknowledged: dict[str, Ack] = field(default_factory=dict)  # event_id -> what the service said

    def record(self, body: dict[str, Any], load_ids: Sequence[str | None] | None = None) -> None:
        """Record a 201 body (`{"case_id", "version", "events": [...]}`)."""
        for index, event in enumerate(body["events"]):
            load_id = load_ids[index] if load_ids is not None else None
            ack = Ack(body["case_id"], event["version"], event["position"], load_id)
            earlier = self.acknowledged.setdefault(event["event_id"], ack)
            if earlier != ack:
                raise AssertionError(
                    f"event {event['event_id']} acknowledged twice differently: {earlier} then {ack}"
                )

    @property
    def case_ids(self) -> set[str]:
        return {a.case_id for a in self.acknowledged.values()}


@dataclass(slots=True)
class StoreCheck:
    stored: int = 0
    acknowledged: int = 0
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.gaps)

    def summary(self) -> str:
        return (
            f"stored {self.stored}, acknowledged {self.acknowledged}, lost {len(self.lost)}, "
            f"duplicated {len(self.duplicated)}, version gaps {len(self.gaps)}"
        )


async def stored_streams(
    conn: asyncpg.Connection, case_ids: Iterable[str]
) -> dict[str, list[store.StoredEvent]]:
    rows = await conn.fetch(
        f"SELECT {store.EVENT_COLUMNS} FROM events WHERE case_id = ANY($1::text[]) ORDER BY case_id, version",
        sorted(set(case_ids)),
    )
    # Opened as a reader sees them (personal metadata such as `load_id` is sealed when stored).
    keys = CaseKeys(master_key_of(Settings()))
    streams: dict[str, list[store.StoredEvent]] = {}
    for event in await keys.opened(conn, [store.StoredEvent.from_row(row) for row in rows]):
        streams.setdefault(event.case_id, []).append(event)
    return streams


async def check_store(conn: asyncpg.Connection, ledger: Ledger, case_ids: Iterable[str] = ()) -> StoreCheck:
    """Every acknowledged event stored as answered; no logical append stored twice; no gaps."""
    streams = await stored_streams(conn, {*case_ids, *ledger.case_ids})
    by_id = {str(e.event_id): e for events in streams.values() for e in events}
    result = StoreCheck(stored=sum(len(s) for s in streams.values()), acknowledged=len(ledger.acknowledged))
    for event_id, ack in ledger.acknowledged.items():
        event = by_id.get(event_id)
        if event is None or (event.case_id, event.version, event.position) != (
            ack.case_id,
            ack.version,
            ack.position,
        ):
            result.lost.append(event_id)
    load_ids = Counter(e.metadata.get("load_id") for s in streams.values() for e in s)
    result.duplicated = sorted(k for k, n in load_ids.items() if k is not None and n > 1)
    for case_id, events in streams.items():
        if [e.version for e in events] != list(range(1, len(events) + 1)):
            result.gaps.append(case_id)
        positions = [e.position for e in events]
        if positions != sorted(set(positions)):
            result.gaps.append(f"{case_id} (positions)")
    return result


def _plain(value: Any) -> Any:
    return orjson.loads(orjson.dumps(value, default=str))


async def read_model_drift(
    conn: asyncpg.Connection, case_ids: Iterable[str], policy: PolicyTable
) -> dict[str, list[str]]:
    """case_id -> the read models whose rows differ from a fold of the whole stream."""
    ids = sorted(set(case_ids))
    streams = await stored_streams(conn, ids)
    heads = {
        r["case_id"]: r
        for r in await conn.fetch(
            "SELECT case_id, version, last_hash FROM case_state WHERE case_id = ANY($1::text[])", ids
        )
    }
    clocks = {
        r["case_id"]: stored_clock_row(r)
        for r in await conn.fetch(
            f"SELECT case_id, {STORED_COLUMNS} FROM closure_clock WHERE case_id = ANY($1::text[])", ids
        )
    }
    ledgers: dict[str, list[Any]] = {}
    for r in await conn.fetch(
        "SELECT case_id, detail FROM ledger_pba WHERE case_id = ANY($1::text[]) ORDER BY case_id, pba_id", ids
    ):
        ledgers.setdefault(r["case_id"], []).append(_plain(r["detail"]))
    drift: dict[str, list[str]] = {}
    for case_id in ids:
        events = streams.get(case_id, [])
        state = replay([to_fact(e) for e in events])
        models = []
        head = heads.get(case_id)
        want_head = (events[-1].version, events[-1].hash) if events else None
        have_head = (head["version"], head["last_hash"]) if head else None
        if have_head != want_head:
            models.append("case_state")
        if clocks.get(case_id) != clock_row(state, policy):
            models.append("closure_clock")
        want_ledger = sorted(_plain(ledger_rows(state, policy)), key=lambda r: r["pba_id"])
        if ledgers.get(case_id, []) != want_ledger:
            models.append("ledger_pba")
        if models:
            drift[case_id] = models
    return drift


async def hash_chain_breaks(conn: asyncpg.Connection, case_ids: Iterable[str]) -> dict[str, Any]:
    streams = await stored_streams(conn, case_ids)
    breaks = {}
    for case_id, events in streams.items():
        verdict = store.verify_stream(events)
        if not verdict["ok"]:
            breaks[case_id] = verdict
    return breaks


def percentile(values: Sequence[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def latency_summary(values: Sequence[float]) -> str:
    if not values:
        return "n/a"
    return (
        f"p50 {statistics.median(values) * 1000:.0f} ms, p99 {percentile(values, 99) * 1000:.0f} ms, "
        f"max {max(values) * 1000:.0f} ms (n={len(values)})"
    )
