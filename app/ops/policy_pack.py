"""The policy table across a process boundary: spawned workers get it as plain values.

`PolicyTable` holds mapping proxies, which do not pickle; the bulk commands'
worker processes (`caseledger import --workers`, `caseledger rebuild --workers`)
decide and fold with exactly the table their parent was given.
"""

from __future__ import annotations

from typing import Any

from app.domain.policy import PolicyTable, policy_version

Packed = tuple[tuple[Any, ...], ...]


def pack_policy(policy: PolicyTable) -> Packed:
    return tuple(
        (v.effective_from, v.closure_wait_days, dict(v.milestone_rates), v.pba_cap_per_consumer)
        for v in policy.versions
    )


def unpack_policy(packed: Packed) -> PolicyTable:
    return PolicyTable(
        tuple(
            policy_version(start, closure_wait_days=days, rates=rates, pba_cap=cap)
            for start, days, rates, cap in packed
        )
    )
