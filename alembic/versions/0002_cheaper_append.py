"""A cheaper one-call append, and the closure clock's explanation stored with its row.

Measured (docs/performance.md, section 1): the append function of 0001 cost
~200 us of backend CPU per single-event append where a plain INSERT costs ~90.
This version:
- takes the transaction's event offset as an argument when the caller knows it
  (every service append is the only append of its transaction), so the
  `set_config`/`current_setting` counter is kept only for the bulk importer,
  which appends many cases in one transaction;
- inserts with `unnest(...) WITH ORDINALITY` instead of subscripting arrays;
- UPDATEs `case_state` (INSERT only for a new case) instead of an upsert;
- writes the closure-clock row inline instead of through a second function.

`closure_clock.explanation` holds the date-independent part of GET
/cases/{id}/closure-clock (clock start rule and event, what holds the clock or
why there is none), so that read is one indexed row instead of a fold. Rows
written before this revision have none (NULL) and are read by folding, as
before, until `caseledger rebuild` or the case's next append writes it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PUT_CLOCK = """
CREATE OR REPLACE FUNCTION caseledger_put_clock(p_case_id text, p_clock jsonb) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO closure_clock (case_id, phase, clock_start, eligible_on, explanation)
    VALUES (p_case_id, p_clock->>'phase', (p_clock->>'clock_start')::date,
            (p_clock->>'eligible_on')::date, p_clock->'explanation')
    ON CONFLICT (case_id) DO UPDATE SET
        phase = EXCLUDED.phase, clock_start = EXCLUDED.clock_start,
        eligible_on = EXCLUDED.eligible_on, explanation = EXCLUDED.explanation;
$$
"""

APPEND = """
CREATE FUNCTION caseledger_append(
    p_case_id text,
    p_expected_version integer,
    p_event_ids uuid[],
    p_types text[],
    p_schema_versions integer[],
    p_data jsonb[],
    p_metadata jsonb[],
    p_hashes text[],
    p_recorded_at timestamptz,
    p_fold_version integer,
    p_state jsonb,
    p_clock jsonb,
    p_ledger jsonb,
    p_offset integer DEFAULT NULL
) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    -- position = (top-level xid << 20) + index: a feed reader that stops below
    -- the oldest running transaction can never skip a late commit. A caller that
    -- appends several times in one transaction (bulk import) passes no offset and
    -- the appends continue one transaction-local counter; a caller whose append is
    -- alone in its transaction passes 0 and skips the counter.
    v_offset integer := COALESCE(
        p_offset,
        NULLIF(current_setting('caseledger.tx_events', true), '')::integer,
        0);
    v_base bigint := ((pg_current_xact_id()::text::bigint) << 20) + v_offset;
    v_count integer := cardinality(p_event_ids);
    v_version integer := p_expected_version + v_count;
BEGIN
    IF v_offset + v_count >= 1048576 THEN
        RAISE EXCEPTION 'more than 1048575 events in one transaction';
    END IF;
    IF p_offset IS NULL THEN
        PERFORM set_config('caseledger.tx_events', (v_offset + v_count)::text, true);
    END IF;
    INSERT INTO events (position, case_id, version, event_id, type, schema_version,
                        data, metadata, recorded_at, hash)
    SELECT v_base + i, p_case_id, p_expected_version + i, e, t, s, d, m, p_recorded_at, h
    FROM unnest(p_event_ids, p_types, p_schema_versions, p_data, p_metadata, p_hashes)
         WITH ORDINALITY AS u(e, t, s, d, m, h, i);

    -- The snapshot (p_state) is written every few versions, not on every append;
    -- a reader folds the events after state_version onto it. The events insert
    -- above already failed if another writer took these versions.
    IF p_expected_version = 0 THEN
        INSERT INTO case_state (case_id, version, last_hash, last_recorded_at, state_version,
                                fold_version, state)
        VALUES (p_case_id, v_version, p_hashes[v_count], p_recorded_at, v_version,
                p_fold_version, COALESCE(p_state, 'null'::jsonb));
    ELSIF p_state IS NULL THEN
        UPDATE case_state SET version = v_version, last_hash = p_hashes[v_count],
                              last_recorded_at = p_recorded_at
        WHERE case_id = p_case_id;
    ELSE
        UPDATE case_state SET version = v_version, last_hash = p_hashes[v_count],
                              last_recorded_at = p_recorded_at, state_version = v_version,
                              fold_version = p_fold_version, state = p_state
        WHERE case_id = p_case_id;
    END IF;

    IF p_clock IS NOT NULL THEN
        -- caseledger_put_clock's statement, inlined (a nested function call costs
        -- more than the upsert itself); test_rebuild_property keeps them equal.
        INSERT INTO closure_clock (case_id, phase, clock_start, eligible_on, explanation)
        VALUES (p_case_id, p_clock->>'phase', (p_clock->>'clock_start')::date,
                (p_clock->>'eligible_on')::date, p_clock->'explanation')
        ON CONFLICT (case_id) DO UPDATE SET
            phase = EXCLUDED.phase, clock_start = EXCLUDED.clock_start,
            eligible_on = EXCLUDED.eligible_on, explanation = EXCLUDED.explanation;
    END IF;
    IF p_ledger IS NOT NULL THEN
        PERFORM caseledger_put_ledger(p_case_id, p_ledger);
    END IF;
    RETURN v_base;
END $$
"""


def upgrade() -> None:
    op.add_column("closure_clock", sa.Column("explanation", postgresql.JSONB(), nullable=True))
    op.execute("DROP FUNCTION caseledger_append")
    op.execute(APPEND)
    op.execute(PUT_CLOCK)


def downgrade() -> None:
    append_0001, put_clock_0001 = _functions_of_0001()[:2]
    op.execute("DROP FUNCTION caseledger_append")
    op.execute(append_0001)
    op.execute(put_clock_0001.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
    op.drop_column("closure_clock", "explanation")


def _functions_of_0001() -> list[str]:
    """0001's own statements (append, put_clock, put_ledger), so a downgrade restores them exactly."""
    path = Path(__file__).with_name("0001_event_store.py")
    spec = importlib.util.spec_from_file_location("caseledger_migration_0001", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [s for s in module.APPEND_FUNCTION.split("\n--\n") if s.strip()]
