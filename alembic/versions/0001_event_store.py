"""Event store, read models, API keys; append-only triggers and the one-call append.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = """
CREATE FUNCTION events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event store is append-only: % on events is refused', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'undo a mistake with a new EventRetracted event';
END $$
--
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change()
--
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();
"""

# One round trip per append: the events, the decider's snapshot and both read
# models in one statement and so in one transaction. A concurrent writer of the
# same case makes the (case_id, version) insert fail; the caller re-reads and
# decides again. Unrelated cases never wait for each other.
APPEND_FUNCTION = """
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
    p_ledger jsonb
) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    -- position = (top-level xid << 20) + index: a feed reader that stops below
    -- the oldest running transaction can never skip a late commit.
    -- Several appends in one transaction (bulk import) continue one counter.
    v_offset integer := COALESCE(NULLIF(current_setting('caseledger.tx_events', true), ''), '0')::integer;
    v_base bigint := ((pg_current_xact_id()::text::bigint) << 20) + v_offset;
    v_count integer := cardinality(p_event_ids);
    v_version integer := p_expected_version + v_count;
BEGIN
    IF v_offset + v_count >= 1048576 THEN
        RAISE EXCEPTION 'more than 1048575 events in one transaction';
    END IF;
    PERFORM set_config('caseledger.tx_events', (v_offset + v_count)::text, true);
    INSERT INTO events (position, case_id, version, event_id, type, schema_version,
                        data, metadata, recorded_at, hash)
    SELECT v_base + i, p_case_id, p_expected_version + i, p_event_ids[i], p_types[i],
           p_schema_versions[i], p_data[i], p_metadata[i], p_recorded_at, p_hashes[i]
    FROM generate_series(1, v_count) AS i;

    -- The snapshot (p_state) is written every few versions, not on every append;
    -- a reader folds the events after state_version onto it.
    INSERT INTO case_state (case_id, version, last_hash, last_recorded_at, state_version,
                            fold_version, state)
    VALUES (p_case_id, v_version, p_hashes[v_count], p_recorded_at, v_version, p_fold_version,
            COALESCE(p_state, 'null'::jsonb))
    ON CONFLICT (case_id) DO UPDATE SET
        version = EXCLUDED.version, last_hash = EXCLUDED.last_hash,
        last_recorded_at = EXCLUDED.last_recorded_at,
        state_version = CASE WHEN p_state IS NULL THEN case_state.state_version
                             ELSE EXCLUDED.state_version END,
        fold_version = CASE WHEN p_state IS NULL THEN case_state.fold_version
                            ELSE EXCLUDED.fold_version END,
        state = COALESCE(p_state, case_state.state);

    IF p_clock IS NOT NULL THEN
        PERFORM caseledger_put_clock(p_case_id, p_clock);
    END IF;
    IF p_ledger IS NOT NULL THEN
        PERFORM caseledger_put_ledger(p_case_id, p_ledger);
    END IF;
    RETURN v_base;
END $$
--

CREATE FUNCTION caseledger_put_clock(p_case_id text, p_clock jsonb) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO closure_clock (case_id, phase, clock_start, eligible_on)
    VALUES (p_case_id, p_clock->>'phase', (p_clock->>'clock_start')::date,
            (p_clock->>'eligible_on')::date)
    ON CONFLICT (case_id) DO UPDATE SET
        phase = EXCLUDED.phase, clock_start = EXCLUDED.clock_start,
        eligible_on = EXCLUDED.eligible_on;
$$
--

CREATE FUNCTION caseledger_put_ledger(p_case_id text, p_ledger jsonb) RETURNS void
LANGUAGE sql AS $$
    DELETE FROM ledger_pba
    WHERE case_id = p_case_id
      AND pba_id NOT IN (SELECT r->>'pba_id' FROM jsonb_array_elements(p_ledger) AS r);
    INSERT INTO ledger_pba (case_id, pba_id, provider_id, status, opened_on, earned,
                            authorized, paid, outstanding, cap_left, detail)
    SELECT p_case_id, r->>'pba_id', r->>'provider_id', r->>'status',
           (r->>'opened_on')::date, (r->>'earned')::numeric, (r->>'authorized')::numeric,
           (r->>'paid')::numeric, (r->>'outstanding')::numeric, (r->>'cap_left')::numeric, r
    FROM jsonb_array_elements(p_ledger) AS r
    ON CONFLICT (case_id, pba_id) DO UPDATE SET
        provider_id = EXCLUDED.provider_id, status = EXCLUDED.status,
        opened_on = EXCLUDED.opened_on, earned = EXCLUDED.earned,
        authorized = EXCLUDED.authorized, paid = EXCLUDED.paid,
        outstanding = EXCLUDED.outstanding, cap_left = EXCLUDED.cap_left,
        detail = EXCLUDED.detail;
$$;
"""


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("position", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("case_id", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("event_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("data", postgresql.JSONB(), nullable=False),
        sa.Column("metadata", postgresql.JSONB(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hash", sa.Text(), nullable=False),
        sa.CheckConstraint("version >= 1", name="events_version_positive"),
        sa.PrimaryKeyConstraint("position"),
        sa.UniqueConstraint("case_id", "version", name="events_case_version_key"),
        sa.UniqueConstraint("event_id", name="events_event_id_key"),
    )
    op.create_table(
        "case_state",
        sa.Column("case_id", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.Text(), nullable=False),
        sa.Column("last_recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state_version", sa.Integer(), nullable=False),
        sa.Column("fold_version", sa.Integer(), nullable=False),
        sa.Column("state", postgresql.JSONB(), nullable=False),
        sa.PrimaryKeyConstraint("case_id"),
    )
    op.create_table(
        "closure_clock",
        sa.Column("case_id", sa.Text(), nullable=False),
        sa.Column("phase", sa.Text(), nullable=False),
        sa.Column("clock_start", sa.Date(), nullable=True),
        sa.Column("eligible_on", sa.Date(), nullable=True),
        sa.Column(
            "worklist_day",
            sa.Date(),
            sa.Computed("COALESCE(eligible_on, '9999-12-31'::date)", persisted=True),
        ),
        sa.PrimaryKeyConstraint("case_id"),
    )
    op.create_index("closure_clock_by_phase", "closure_clock", ["phase", "worklist_day", "case_id"])
    op.create_index("closure_clock_by_day", "closure_clock", ["worklist_day", "case_id"])
    op.create_table(
        "ledger_pba",
        sa.Column("case_id", sa.Text(), nullable=False),
        sa.Column("pba_id", sa.Text(), nullable=False),
        sa.Column("provider_id", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("earned", sa.Numeric(12, 2), nullable=False),
        sa.Column("authorized", sa.Numeric(12, 2), nullable=False),
        sa.Column("paid", sa.Numeric(12, 2), nullable=False),
        sa.Column("outstanding", sa.Numeric(12, 2), nullable=False),
        sa.Column("cap_left", sa.Numeric(12, 2), nullable=False),
        sa.Column("detail", postgresql.JSONB(), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "pba_id", name="ledger_pba_pkey"),
    )
    op.create_index("ledger_pba_provider", "ledger_pba", ["provider_id", "case_id", "pba_id"])
    op.create_table(
        "refused_claims",
        sa.Column("case_id", sa.Text(), nullable=False),
        sa.Column("claim_key", sa.Text(), nullable=False),
        sa.Column("pba_id", sa.Text(), nullable=True),
        sa.Column("provider_id", sa.Text(), nullable=True),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("data", postgresql.JSONB(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column(
            "refused_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("case_id", "claim_key", name="refused_claims_pkey"),
    )
    op.create_index("refused_claims_provider", "refused_claims", ["provider_id", "case_id"])
    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.Text(), nullable=False),
        sa.Column("key_hash", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("provider_id", sa.Text(), nullable=True),
        sa.Column("label", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "role IN ('case_system', 'provider', 'auditor', 'admin')", name="api_keys_role_known"
        ),
        sa.CheckConstraint(
            "(role = 'provider') = (provider_id IS NOT NULL)", name="api_keys_provider_bound"
        ),
        sa.PrimaryKeyConstraint("key_id"),
        sa.UniqueConstraint("key_hash", name="api_keys_key_hash_key"),
    )
    for statement in (APPEND_ONLY + "\n--\n" + APPEND_FUNCTION).split("\n--\n"):
        if statement.strip():
            op.execute(statement)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS caseledger_append")
    op.execute("DROP FUNCTION IF EXISTS caseledger_put_clock")
    op.execute("DROP FUNCTION IF EXISTS caseledger_put_ledger")
    for table in ("api_keys", "refused_claims", "ledger_pba", "closure_clock", "case_state"):
        op.drop_table(table)
    op.drop_table("events")
    op.execute("DROP FUNCTION IF EXISTS events_refuse_change")
