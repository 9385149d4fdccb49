"""The policy table across a process boundary: spawned workers get it as plain values.

`PolicyTable` holds mapping proxies, which do not pickle; the bulk commands'
worker processes (`caseledger import --workers`, `caseledger rebuild --workers`)
decide and fold with exactly the table their parent was given, adoptions included
(so a milestone is priced as known when it was recorded, as in the service).
"""

from __future__ import annotations

from typing import Any

from app.domain.policy import PolicyTable, table_from_plain, table_to_plain

Packed = tuple[Any, ...]


def pack_policy(policy: PolicyTable) -> Packed:
    return table_to_plain(policy)


def unpack_policy(packed: Packed) -> PolicyTable:
    return table_from_plain(packed)
