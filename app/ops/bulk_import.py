"""`caseledger import`: a case-system export appended in batches, resumable by event_id.

Every line meets the API's schema check and deciders (`app.operations_lines`,
`app.operations_batch`); what differs from the API is only how it reaches the
store: one transaction per batch, every case's events in one COPY and the heads,
snapshots and read-model rows in a few set statements (`app.store.bulk_appends`,
which keeps what `caseledger_append` checks). While PostgreSQL
writes a batch, the next one is parsed, schema-checked and decided against the
outcome of the batch in flight (`Writer.decide`), so Python and PostgreSQL work
at once; should that write lose a race, the next batch is decided again.

It ends with ANALYZE of the tables it filled (`app.operations_analyze`): without
statistics the worklist's plan degrades badly on a server that runs no autovacuum.

Re-running an import is safe and quick: a line whose event_id is stored with the
same content is skipped (before its schema check, when the export's data is
already in stored form); a line refused before is decided again against the
case as it now stands (like an API retry), so it may now get another reason.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import asyncpg

from app.domain.data_keys import MasterKey
from app.domain.policy import PolicyTable
from app.events.types import IDENTIFIER
from app.ops.analyze import analyze_tables
from app.ops.gc import collector_between_batches
from app.ops.import_batch import Decided, Importing
from app.ops.import_lines import (
    EVERY_CASE,
    Envelope,
    Line,
    Shard,
    check_schema,
    importer,
    parse_envelope,
)
from app.ops.import_writer import Batch, ImportSummary, Writer
from app.service.case_keys import CaseKeys
from app.service.keys import Principal
from app.service.state_cache import StateCache
from app.store.bulk import known_events
from app.store.pool import Pool

# Lines per transaction: an export ordered by time spreads a case over many lines, and each
# case costs a fold and its read-model rows once per batch, so larger batches pay off.
# Bulk statements (an import batch, a rebuild chunk) may run far longer than a request.
BULK_STATEMENT_TIMEOUT_MS = 10 * 60 * 1000
DEFAULT_BATCH = 20_000
_FIRST_CASE_ID = re.compile(rb'\s*\{\s*"case_id"\s*:\s*"(' + IDENTIFIER.pattern.encode() + rb')"')
_SLICE = 500  # lines checked between yields to the event loop (the write in flight needs it)


def default_rejects_path(path: Path) -> Path:
    return path.with_name(path.name + ".rejects.ndjson")


async def import_file(
    pool: Pool,
    path: Path,
    *,
    batch_size: int = DEFAULT_BATCH,
    rejects_path: Path | None = None,
    policy: PolicyTable,
    progress: Callable[[int], None] | None = None,
    shard: Shard = EVERY_CASE,
    analyze: bool = True,
    master_key: MasterKey | None = None,
) -> ImportSummary:
    """Import `path`; the pool must lend two connections (one checks, one writes).

    `progress` is called with the size in bytes of each batch once it is committed.
    `shard` takes only its share of the cases, for one of several worker processes
    (which leave `analyze` to the parent, once every worker is done). With `master_key`,
    personal values are sealed per case as the service seals them (docs/privacy.md).
    """
    if not 1 <= batch_size <= 100_000:
        raise ValueError("batch_size must be between 1 and 100000")
    summary = ImportSummary(rejects_path=rejects_path or default_rejects_path(path))
    principal, started = importer(path.name), time.perf_counter()
    run = Importing(policy, principal.actor, StateCache(), CaseKeys(master_key) if master_key else None)
    with (
        path.open("rb") as source,
        summary.rejects_path.open("wb") as rejects,
        collector_between_batches(),
    ):
        async with pool.acquire() as reader, pool.acquire() as conn:
            writer = Writer(conn, run, summary, rejects, progress)
            writing: asyncio.Task[None] | None = None
            ahead: Decided | None = None  # the decision of the batch being written
            try:
                for raw in _raw_batches(source, batch_size * shard.count):
                    batch = await _check(reader, raw, principal, shard)
                    decided = await writer.decide(reader, batch, ahead, checked=True)
                    if writing is not None:
                        await writing
                        if decided is None or writer.raced:  # decided against a stale outcome
                            decided = await writer.decide(reader, batch, None)
                    writing = asyncio.create_task(writer.commit(batch, decided))
                    ahead = decided
                if writing is not None:
                    await writing
            finally:
                if writing is not None and not writing.done():
                    writing.cancel()
            if analyze:
                await analyze_tables(conn)
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


def _surely_elsewhere(line: bytes, shard: Shard) -> bool:
    """Whether the line is certainly another worker's, told without parsing it: its first key
    is a valid case_id of another shard, no other "case_id" appears in it, and it holds no
    escape (so no key or value is spelled another way). Anything else is parsed."""
    if b"\\" in line or line.count(b'"case_id"') != 1:
        return False
    first = _FIRST_CASE_ID.match(line)
    return first is not None and not shard.takes(first.group(1).decode())


async def _check(
    conn: asyncpg.Connection, raw: list[tuple[int, bytes]], principal: Principal, shard: Shard
) -> Batch:
    """Parse, skip what is stored as it stands, schema-check the rest; yields now and then so
    the batch in flight keeps streaming to the server."""
    batch, envelopes = Batch(), []
    for number, line in raw:
        if shard.count > 1 and _surely_elsewhere(line, shard):
            continue
        parsed = parse_envelope(number, line)
        if not shard.takes(parsed.case_id if isinstance(parsed, Envelope) else None):
            continue
        (envelopes if isinstance(parsed, Envelope) else batch.rejects).append(parsed)
        batch.read, batch.size_bytes = batch.read + 1, batch.size_bytes + len(line)
    stored = {r["event_id"]: r for r in await known_events(conn, [e.event_id for e in envelopes])}
    batch.known = stored
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
