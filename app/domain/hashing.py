"""The per-case hash chain: each event's hash covers the previous hash and its own content.

The canonical content is sorted-key JSON of exactly what the store keeps, with
`recorded_at` as a fixed-width UTC timestamp, so `verify` recomputes the same
bytes from the stored row and any row changed behind the service's back shows.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

import orjson

GENESIS = "0" * 64


@lru_cache(maxsize=4096)
def timestamp_text(moment: datetime) -> str:
    """Fixed-width UTC text (cached: one append's events share one `recorded_at`)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(
    previous_hash: str,
    *,
    case_id: str,
    version: int,
    event_id: UUID,
    type: str,
    schema_version: int,
    data: dict[str, Any],
    metadata: dict[str, Any],
    recorded_at: datetime,
) -> str:
    content = orjson.dumps(
        {
            "case_id": case_id,
            "version": version,
            "event_id": str(event_id),
            "type": type,
            "schema_version": schema_version,
            "data": data,
            "metadata": metadata,
            "recorded_at": timestamp_text(recorded_at),
        },
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(previous_hash.encode() + content).hexdigest()
