"""The PostgreSQL schema as SQLAlchemy Core tables: Alembic compares against this.

Every table keeps `case_id` in its key (except api_keys) so that the schema can
be distributed by `case_id` (docs/scaling.md). Functions and triggers that
Core cannot express live in the migrations.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Computed,
    Date,
    DateTime,
    Index,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from app.store.metadata import metadata

events = Table(
    "events",
    metadata,
    # position = (top-level transaction id << 20) + index in the transaction:
    # unique, never reused, and the order in which the gap-safe feed shows events.
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("case_id", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("event_id", UUID(as_uuid=True), nullable=False),
    Column("type", Text, nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("data", JSONB, nullable=False),
    Column("metadata", JSONB, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("hash", Text, nullable=False),
    UniqueConstraint("case_id", "version", name="events_case_version_key"),
    UniqueConstraint("event_id", name="events_event_id_key"),
    CheckConstraint("version >= 1", name="events_version_positive"),
)

case_state = Table(
    "case_state",
    metadata,
    Column("case_id", Text, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("last_hash", Text, nullable=False),
    Column("last_recorded_at", DateTime(timezone=True), nullable=False),
    # The snapshot `state` is the fold of versions 1..state_version.
    Column("state_version", Integer, nullable=False),
    Column("fold_version", Integer, nullable=False),
    Column("state", JSONB, nullable=False),
)

closure_clock = Table(
    "closure_clock",
    metadata,
    Column("case_id", Text, primary_key=True),
    Column("phase", Text, nullable=False),
    Column("clock_start", Date),
    Column("eligible_on", Date),
    # The worklist's order: by eligible date, cases with no date last.
    Column("worklist_day", Date, Computed("COALESCE(eligible_on, '9999-12-31'::date)", persisted=True)),
    # What GET closure-clock explains that does not depend on the evaluation date
    # (app.projections.closure_clock.clock_row); NULL on rows written before 0002.
    Column("explanation", JSONB),
    Index("closure_clock_by_phase", "phase", "worklist_day", "case_id"),
    Index("closure_clock_by_day", "worklist_day", "case_id"),
)

ledger_pba = Table(
    "ledger_pba",
    metadata,
    Column("case_id", Text, nullable=False),
    Column("pba_id", Text, nullable=False),
    Column("provider_id", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("opened_on", Date, nullable=False),
    Column("earned", Numeric(12, 2), nullable=False),
    Column("authorized", Numeric(12, 2), nullable=False),
    Column("paid", Numeric(12, 2), nullable=False),
    Column("outstanding", Numeric(12, 2), nullable=False),
    Column("cap_left", Numeric(12, 2), nullable=False),
    Column("detail", JSONB, nullable=False),
    PrimaryKeyConstraint("case_id", "pba_id", name="ledger_pba_pkey"),
    Index("ledger_pba_provider", "provider_id", "case_id", "pba_id"),
)

refused_claims = Table(
    "refused_claims",
    metadata,
    Column("case_id", Text, nullable=False),
    Column("claim_key", Text, nullable=False),
    Column("pba_id", Text),
    Column("provider_id", Text),
    Column("type", Text, nullable=False),
    Column("data", JSONB, nullable=False),
    Column("rule", Text, nullable=False),
    Column("detail", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("refused_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    PrimaryKeyConstraint("case_id", "claim_key", name="refused_claims_pkey"),
    Index("refused_claims_provider", "provider_id", "case_id"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", Text, primary_key=True),
    Column("key_hash", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("provider_id", Text),
    Column("label", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("revoked_at", DateTime(timezone=True)),
    UniqueConstraint("key_hash", name="api_keys_key_hash_key"),
    CheckConstraint("role IN ('case_system', 'provider', 'auditor', 'admin')", name="api_keys_role_known"),
    CheckConstraint("(role = 'provider') = (provider_id IS NOT NULL)", name="api_keys_provider_bound"),
)

__all__ = ["api_keys", "case_state", "closure_clock", "events", "ledger_pba", "metadata"]

# Tables of later features are declared beside their SQL; importing them here puts them
# on the one `metadata`, so Alembic's comparison (tests/integration/test_migrations.py) sees
# every table.
from app.store import (  # noqa: E402,F401
    confidentiality_schema,
    policy_schema,
    trust_schema,
    ui_sessions_schema,
)
