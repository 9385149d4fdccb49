"""The auditor's findings across all cases, imported or live: filtered, ordered, paged.

The rows come from the store's batched rule queries; here they are ordered (date,
case, rule, events) and cut into pages with an opaque keyset cursor, and written as
CSV for `caseledger findings --csv`. Sorting a large list runs off the event loop.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import io
from datetime import date
from typing import Any

import asyncpg
import orjson

from app.service.errors import ServiceError
from app.store.findings import FindingFilter, audit_sample, fetch_findings

MAX_PAGE = 500
CSV_COLUMNS = ("on_day", "case_id", "rule", "event_ids", "provider_id", "source", "detail", "history")


def _key(row: dict[str, Any]) -> list[str]:
    day = row["on_day"].isoformat() if row["on_day"] else "9999-12-31"
    return [day, row["case_id"], row["rule"], ",".join(row["event_ids"])]


def encode_cursor(row: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(_key(row))).decode()


def decode_cursor(cursor: str) -> list[str]:
    """The key a cursor names; anything this service did not give out is bad input."""
    try:
        key = orjson.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, orjson.JSONDecodeError) as exc:
        raise ServiceError("invalid_request", "cursor is not one this service gave out") from exc
    if not (isinstance(key, list) and len(key) == 4 and all(isinstance(k, str) for k in key)):
        raise ServiceError("invalid_request", "cursor is not one this service gave out")
    return key


def _shaped(row: dict[str, Any]) -> dict[str, Any]:
    dates = row["dates"]
    return {
        **row,
        "event_ids": list(row["event_ids"]),
        "dates": orjson.loads(dates) if isinstance(dates, str) else dates,
        "history": f"/cases/{row['case_id']}/history",
    }


def _ordered(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted((_shaped(r) for r in rows), key=_key)


async def all_findings(conn: asyncpg.Connection, f: FindingFilter) -> list[dict[str, Any]]:
    """Every finding under `f`, in list order."""
    rows = await fetch_findings(conn, f)
    return await asyncio.to_thread(_ordered, rows) if len(rows) > 2000 else _ordered(rows)


async def findings_page(
    conn: asyncpg.Connection, f: FindingFilter, cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """One page after `cursor`, and the next page's cursor (None on the last page)."""
    after = decode_cursor(cursor) if cursor else None
    rows = await all_findings(conn, f)
    if after is not None:
        rows = [r for r in rows if _key(r) > after]
    page = rows[:limit]
    return page, encode_cursor(page[-1]) if len(rows) > limit else None


def findings_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        values = {**row, "event_ids": " ".join(row["event_ids"]), "on_day": row["on_day"] or ""}
        writer.writerow([values[c] if values[c] is not None else "" for c in CSV_COLUMNS])
    return out.getvalue()


async def sample(
    conn: asyncpg.Connection,
    seed: str,
    size: int,
    status: str | None = None,
    closed_from: date | None = None,
    closed_to: date | None = None,
) -> list[dict[str, Any]]:
    """The reproducible audit sample: the same seed on the same data draws the same cases."""
    rows = await audit_sample(conn, seed, size, status, closed_from, closed_to)
    return [{**r, "history": f"/cases/{r['case_id']}/history"} for r in rows]
