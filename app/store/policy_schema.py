"""The policy versions' table as SQLAlchemy Core, on the schema's one `metadata`.

Migration 0007 creates it from `sql/migrations/0007/` (0009 adds `retention_years`); this
declaration only lets Alembic compare (no drift). `app.store.schema` imports this module at its end.
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from app.store.metadata import metadata

policy_versions = Table(
    "policy_versions",
    metadata,
    Column("number", Integer, nullable=False, autoincrement=False),
    Column("effective_from", Date, nullable=False),
    Column("closure_wait_days", Integer, nullable=False),
    Column("milestone_rates", JSONB, nullable=False),
    Column("pba_cap_per_consumer", Numeric(12, 2), nullable=False),
    Column("adopted_at", DateTime(timezone=True), nullable=False),
    Column("adopted_by", Text, nullable=False),
    Column("previous_hash", Text, nullable=False),
    Column("hash", Text, nullable=False),
    # Migration 0009: years after closure a case's personal data is kept (docs/privacy.md).
    Column("retention_years", Integer, nullable=False, server_default=text("5")),
    PrimaryKeyConstraint("number", name="policy_versions_pkey"),
    UniqueConstraint("previous_hash", name="policy_versions_previous_hash_key"),
    UniqueConstraint("hash", name="policy_versions_hash_key"),
    CheckConstraint("number >= 1"),
    CheckConstraint("closure_wait_days BETWEEN 1 AND 3650"),
    CheckConstraint("pba_cap_per_consumer >= 0"),
    CheckConstraint("retention_years BETWEEN 1 AND 100", name="policy_versions_retention_years_check"),
)
