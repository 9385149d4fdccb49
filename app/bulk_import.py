"""`caseledger import`: a case-system export appended in batches, resumable by event_id.

Every line meets the API's schema check and deciders (`app.operations_lines`,
`app.operations_batch`); what differs from the API is only how it reaches the
store: one transaction per batch, every case's events, snapshot and read-model
rows in one pipelined `executemany` of `caseledger_append`. While PostgreSQL
writes a batch, the next one is parsed and schema-checked (pure Python), so the
two processors work at once.

Re-running an import is safe and quick: a line whose event_id is stored with the
same content is skipped (before its schema check, when the export's data is
already in stored form); a line refused before is decided again against the
case as it now stands (like an API retry), so it may now get another reason.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import asyncpg

from app.auth import Principal
from app.domain.policy import PolicyTable
from app.operations_batch import Decided, Importing, decide_batch
from app.operations_gc import collect_batch, collector_between_batches
from app.operations_lines import (
    EVERY_CASE,
    Envelope,
    Line,
    Reject,
    Shard,
    check_schema,
    importer,
    parse_envelope,
)
from app.state_cache import StateCache

APPEND_SQL = "SELECT caseledger_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
REFUSED_CLAIM_SQL = (
    "INSERT INTO refused_claims"
    " (case_id, claim_key, pba_id, provider_id, type, data, rule, detail, actor)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING"
)
_STORED = "SELECT event_id, case_id, type, data FROM events WHERE event_id = ANY($1::uuid[])"
RETRIES = 5
# Lines per transaction: an export ordered by time spreads a case over many lines, and each
# case costs a fold and its read-model rows once per batch, so larger batches pay off.
DEFAULT_BATCH = 20_000
_SLICE = 500  # lines checked between yields to the event loop (the write in flight needs it)


@dataclass(slots=True)
class ImportSummary:
    read: int = 0
    appended: int = 0
    skipped: int = 0
    rejected: int = 0
    seconds: float = 0.0
    rejects_path: Path | None = None
    rejected_by_code: dict[str, int] = field(default_factory=dict)

    @property
    def events_per_second(self) -> float:
        """Lines handled per second (appended, skipped or rejected)."""
        return self.read / self.seconds if self.seconds else 0.0

    def text(self) -> str:
        codes = ", ".join(f"{c} {n}" for c, n in sorted(self.rejected_by_code.items()))
        return (
            f"read {self.read}, appended {self.appended}, skipped as already present "
            f"{self.skipped}, rejected {self.rejected}{f' ({codes})' if codes else ''}; "
            f"{self.seconds:.1f} s, {self.events_per_second:,.0f} events/s"
            + (f"; rejects in {self.rejects_path}" if self.rejected else "")
        )


@dataclass(slots=True)
class _Batch:
    lines: list[Line] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    read: int = 0
    skipped: int = 0
    size_bytes: int = 0


def default_rejects_path(path: Path) -> Path:
    return path.with_name(path.name + ".rejects.ndjson")


async def import_file(
    pool: asyncpg.Pool,
    path: Path,
    *,
    batch_size: int = DEFAULT_BATCH,
    rejects_path: Path | None = None,
    policy: PolicyTable,
    progress: Callable[[int], None] | None = None,
    shard: Shard = EVERY_CASE,
) -> ImportSummary:
    """Import `path`; the pool must lend two connections (one checks, one writes).

    `progress` is called with the size in bytes of each batch once it is committed.
    `shard` takes only its share of the cases, for one of several worker processes.
    """
    if not 1 <= batch_size <= 100_000:
        raise ValueError("batch_size must be between 1 and 100000")
    summary = ImportSummary(rejects_path=rejects_path or default_rejects_path(path))
    principal, started = importer(path.name), time.perf_counter()
    run = Importing(policy, principal.actor, StateCache())
    with (
        path.open("rb") as source,
        summary.rejects_path.open("wb") as rejects,
        collector_between_batches(),
    ):
        async with pool.acquire() as reader, pool.acquire() as conn:
            writer = _Writer(conn, run, summary, rejects, progress)
            writing: asyncio.Task[None] | None = None
            try:
                for raw in _raw_batches(source, batch_size * shard.count):
                    batch = await _check(reader, raw, principal, shard)
                    if writing is not None:
                        await writing
                    writing = asyncio.create_task(writer.commit(batch))
                if writing is not None:
                    await writing
            finally:
                if writing is not None and not writing.done():
                    writing.cancel()
    summary.seconds = time.perf_counter() - started
    return summary


def _raw_batches(source: BinaryIO, size: int) -> Iterator[list[tuple[int, bytes]]]:
    batch: list[tuple[int, bytes]] = []
    for number, raw in enumerate(source, start=1):
        if raw.strip():
            batch.append((number, raw))
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


async def _check(
    conn: asyncpg.Connection, raw: list[tuple[int, bytes]], principal: Principal, shard: Shard
) -> _Batch:
    """Parse, skip what is stored as it stands, schema-check the rest; yields now and then so
    the batch in flight keeps streaming to the server."""
    batch, envelopes = _Batch(), []
    for number, line in raw:
        parsed = parse_envelope(number, line)
        if not shard.takes(parsed.case_id if isinstance(parsed, Envelope) else None):
            continue
        (envelopes if isinstance(parsed, Envelope) else batch.rejects).append(parsed)
        batch.read, batch.size_bytes = batch.read + 1, batch.size_bytes + len(line)
    stored = {r["event_id"]: r for r in await conn.fetch(_STORED, [e.event_id for e in envelopes])}
    for start in range(0, len(envelopes), _SLICE):
        for envelope in envelopes[start : start + _SLICE]:
            known = stored.get(envelope.event_id)
            if known is not None and (known["case_id"], known["type"], known["data"]) == (
                envelope.case_id,
                envelope.type,
                envelope.data,
            ):
                batch.skipped += 1
                continue
            checked = check_schema(envelope, principal)
            (batch.lines if isinstance(checked, Line) else batch.rejects).append(checked)
        await asyncio.sleep(0)
    return batch


@dataclass(slots=True)
class _Writer:
    """Decides and writes batches, one transaction each, and accounts for them."""

    conn: asyncpg.Connection
    run: Importing
    summary: ImportSummary
    rejects: BinaryIO
    progress: Callable[[int], None] | None

    async def commit(self, batch: _Batch) -> None:
        """A lost race on a case (another writer took its next version) decides it again."""
        decided = Decided()
        for attempt in range(RETRIES + 1 if batch.lines else 0):
            decided = await decide_batch(self.conn, batch.lines, self.run, datetime.now(UTC))
            try:
                async with self.conn.transaction():
                    if decided.appends:
                        await self.conn.executemany(APPEND_SQL, decided.appends)
                    if decided.refused_claims:
                        await self.conn.executemany(REFUSED_CLAIM_SQL, decided.refused_claims)
                break
            except (asyncpg.UniqueViolationError, asyncpg.DeadlockDetectedError):
                if attempt == RETRIES:  # (a deadlock needs one event_id on two cases, in two
                    raise  # workers' batches at once; deciding again then finds it stored)
        self._keep_states(decided)
        self._count(batch, decided)
        collect_batch()
        if self.progress is not None:
            self.progress(batch.size_bytes)

    def _keep_states(self, decided: Decided) -> None:
        """The next batch finds the states this one wrote; older ones are let go, so memory
        follows a batch, not the export (a case that returns later is read back)."""
        cache = StateCache(max_entries=max(len(decided.cached), 1))
        for case_id, cached in decided.cached:
            cache.put(case_id, cached)
        self.run = replace(self.run, cache=cache)

    def _count(self, batch: _Batch, decided: Decided) -> None:
        refused = sorted(batch.rejects + decided.rejects, key=lambda r: r.line)
        self.rejects.writelines(r.to_json() for r in refused)
        summary = self.summary
        summary.read += batch.read
        summary.appended += len(decided.accepted)
        summary.skipped += batch.skipped + decided.skipped
        summary.rejected += len(refused)
        for reject in refused:
            summary.rejected_by_code[reject.code] = summary.rejected_by_code.get(reject.code, 0) + 1
