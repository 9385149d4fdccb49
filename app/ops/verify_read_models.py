"""Read-model rows against a fresh fold of the events, changing nothing.

The comparison is the rebuild's own (`app.ops.rebuild_chunk.write_chunk`: the rows are
written through the append path's SQL functions and digests before and after say what
changed), run inside a transaction that is always rolled back: one mapping of state to
rows, and nothing stays written. Only the served read models are reported (SERVED).
The chunk's case_state rows are locked until the rollback, as a rebuild locks them:
appends to those cases wait that long.
"""

from __future__ import annotations

import asyncpg

from app.domain.append_plan import SNAPSHOT_EVERY
from app.domain.case import SNAPSHOT, replay
from app.domain.policy import PolicyTable
from app.domain.tree_audit import Finding
from app.ops.rebuild_chunk import Rebuilt, write_chunk
from app.projections.projector import projector
from app.service.reads import to_fact
from app.store import merkle as trust_store
from app.store import streams as store
from app.store.pool import Pool
from app.store.streams import StoredEvent

CHUNK = 500
# The rows clients are answered from. `case_state` is the decider's snapshot, a cache a
# reader refolds when it is of another fold; a stale one is not a false answer.
SERVED = ("closure_clock", "ledger_pba")


class _RollBack(Exception):
    """Raised inside the comparison's transaction so that nothing it wrote stays."""


async def read_model_findings(pool: Pool, policy: PolicyTable) -> list[Finding]:
    findings: list[Finding] = []
    project = projector(policy)
    async with (
        pool.acquire() as reader,
        pool.acquire() as writer,
        reader.transaction(isolation="repeatable_read", readonly=True),
    ):
        chunk: list[Rebuilt] = []
        async for stream in store.iter_all_streams(reader):
            chunk.append(_folded(stream, project))
            if len(chunk) == CHUNK:
                findings += await _compare(writer, chunk)
                chunk = []
        findings += await _compare(writer, chunk)
        for model, case_id in await trust_store.read_models_without_events(reader):
            findings.append(Finding("read_model_without_events", case_id, 0, f"a {model} row, but no events"))
    return findings


def _folded(stream: list[StoredEvent], project) -> Rebuilt:  # type: ignore[no-untyped-def]
    facts = [to_fact(e) for e in stream]
    state = replay(facts)
    clock, ledger = project.rows(state)
    return Rebuilt(
        stream[-1], tuple(facts[-SNAPSHOT_EVERY:]), state, SNAPSHOT.dump_json(state).decode(), clock, ledger
    )


async def _compare(writer: asyncpg.Connection, chunk: list[Rebuilt]) -> list[Finding]:
    if not chunk:
        return []
    differed: dict[str, list[str]] = {}
    try:
        async with writer.transaction():
            differed = (await write_chunk(writer, chunk)).differed
            raise _RollBack
    except _RollBack:
        pass
    versions = {r.case_id: r.last.version for r in chunk}
    return [
        Finding(
            "read_model_differs", case_id, versions[case_id], f"{', '.join(served)} differ from a fresh fold"
        )
        for case_id, models in sorted(differed.items())
        if (served := [m for m in models if m in SERVED])
    ]
