"""The importer's appends: a batch's events by COPY, its heads and read models in set statements.

Why a bulk write beside `caseledger_append`, and what of the function's checks it keeps, is
`copy_appends`'s docstring; `app.ops.import_writer` calls it in the batch's transaction.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import asyncpg
import orjson

from app.store.appends import AppendCall, LostRace, lost_race
from app.store.bulk import compress_with_lz4
from app.store.queries import load_sql

EVENT_COLUMNS = (
    "position", "case_id", "version", "event_id", "type", "schema_version",
    "data", "metadata", "recorded_at", "hash",
)  # fmt: skip
# Positions continue one counter per transaction from (xid << 20), as caseledger_append's do.
MAX_EVENTS_PER_TRANSACTION = (1 << 20) - 1


async def copy_appends(
    conn: asyncpg.Connection, calls: Sequence[AppendCall], refused_claims: Sequence[tuple[Any, ...]]
) -> None:
    """An import batch's appends in the caller's transaction; raises `LostRace`.

    Why not `caseledger_append` per case: replaying the writes of a 200k-event import, its
    pipelined calls cost 25-28 us of CPU per event (client and server, snapshots with lz4), a
    COPY of the same events 19-23 (no jsonb[] literals to quote and parse, no plpgsql per
    case). What the function checks holds the same way: positions are the transaction's
    (`xid << 20` plus a counter), a head moves only from the version the batch was decided on
    (else `LostRace`, as its CL409), and the unique keys on (case_id, version) and event_id
    catch a writer that got there first; the read-model rows go through the append's own SQL
    functions. tests/integration/test_import_copy.py holds it to that.
    """
    total = sum(len(c.event_ids) for c in calls)
    if total > MAX_EVENTS_PER_TRANSACTION:
        raise ValueError(f"more than {MAX_EVENTS_PER_TRANSACTION} events in one transaction")
    try:
        if calls:
            await compress_with_lz4(conn)
            base = await conn.fetchval("SELECT pg_current_xact_id()::text::bigint << 20")
            with io.BytesIO(_copy_rows(calls, base)) as source:  # closed: its buffer goes at once
                await conn.copy_to_table("events", source=source, columns=EVENT_COLUMNS, format="text")
            await _move_heads(conn, calls)
            await _write_read_models(conn, calls)
        if refused_claims:
            await conn.executemany(load_sql("refused_claim"), refused_claims)
    except asyncpg.PostgresError as exc:
        raise (lost_race(exc) or exc) from exc


def _copy_rows(calls: Sequence[AppendCall], base: int) -> bytes:
    """The events in COPY's text format. JSON needs only its backslashes doubled (it holds no
    raw tab or newline); a case_id is an identifier and a type, a hash and a UUID plain text."""
    dumps, rows, position = orjson.dumps, [], base
    for c in calls:
        case_id, at = _copy_text(c.case_id), c.recorded_at.isoformat().encode()
        for i, (event_id, type_, schema, data, metadata, hash_) in enumerate(
            zip(c.event_ids, c.types, c.schema_versions, c.data, c.metadata, c.hashes, strict=True), 1
        ):
            rows.append(
                b"%d\t%s\t%d\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n"
                % (
                    position + i,
                    case_id,
                    c.expected_version + i,
                    str(event_id).encode(),
                    type_.encode(),
                    schema,
                    dumps(data).replace(b"\\", b"\\\\"),
                    dumps(metadata).replace(b"\\", b"\\\\"),
                    at,
                    hash_.encode(),
                )
            )
        position += len(c.event_ids)
    return b"".join(rows)


def _copy_text(text: str) -> bytes:
    """A text value for COPY's text format (its escape character and separators escaped)."""
    raw = text.encode()
    if b"\\" in raw or b"\t" in raw or b"\n" in raw or b"\r" in raw:
        raw = raw.replace(b"\\", b"\\\\").replace(b"\t", b"\\t").replace(b"\n", b"\\n").replace(b"\r", b"\\r")
    return raw


async def _move_heads(conn: asyncpg.Connection, calls: Sequence[AppendCall]) -> None:
    """New cases' heads inserted, existing ones moved from the decided version (or `LostRace`)."""
    for new, sql in ((True, "import_new_heads"), (False, "import_moved_heads")):
        part = [c for c in calls if (c.expected_version == 0) == new]
        if not part:
            continue
        columns: list[list[Any]] = [
            [c.case_id for c in part],
            *([] if new else [[c.expected_version for c in part]]),
            [c.expected_version + len(c.event_ids) for c in part],
            [c.hashes[-1] for c in part],
            [c.recorded_at for c in part],
            [c.fold_version for c in part],
            [c.state for c in part],
        ]
        if new:
            await conn.execute(load_sql(sql), *columns)
        elif len(await conn.fetch(load_sql(sql), *columns)) != len(part):
            raise LostRace(head_moved=True)


async def _write_read_models(conn: asyncpg.Connection, calls: Sequence[AppendCall]) -> None:
    changed = [c for c in calls if c.clock is not None or c.ledger is not None]
    if changed:
        await conn.execute(
            load_sql("import_read_models"),
            [c.case_id for c in changed],
            [None if c.clock is None else orjson.dumps(c.clock).decode() for c in changed],
            [None if c.ledger is None else orjson.dumps(c.ledger).decode() for c in changed],
        )
