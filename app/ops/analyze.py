"""Planner statistics after bulk work: ANALYZE of the tables an import or a rebuild filled.

The service's read queries (the worklist above all) are planned from statistics.
A server that runs autovacuum gathers them some time after a bulk load; one that
runs without it (or before it gets there) plans the worklist from no statistics
at all: measured after an import of 1M events, a bitmap scan plus sort took
13-16 ms where the index scan takes 0.2-0.6 ms (docs/performance.md, section 5).
So `caseledger import` and `caseledger rebuild` end with one ANALYZE (a sample of
each table: well under a second for a million events).
"""

from __future__ import annotations

import asyncpg

from app.store.bulk import analyze

ANALYZED = ("events", "case_state", "closure_clock", "ledger_pba", "refused_claims")


async def analyze_tables(conn: asyncpg.Connection) -> None:
    """Gather statistics of the event store's tables (outside any transaction block)."""
    await analyze(conn, ANALYZED)
