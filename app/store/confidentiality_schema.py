"""The access record and the wrapped data keys as SQLAlchemy Core, on the schema's one
`metadata`.

Migrations 0008 and 0012 create them from `sql/migrations/` (with the append-only
triggers, the view and the functions Core cannot express); these declarations only let Alembic compare
(no drift). `app.store.schema` imports it at its end, as it does `trust_schema`.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, BYTEA

from app.store.metadata import metadata

access_log_batches = Table(  # 0012; `access_log` is now a view over it (a row per record)
    "access_log_batches",
    metadata,
    Column("first_position", BigInteger, nullable=False),
    Column("last_position", BigInteger, nullable=False),
    Column("first_at", DateTime(timezone=True), nullable=False),
    Column("last_at", DateTime(timezone=True), nullable=False),
    Column("case_ids", ARRAY(Text), nullable=False),
    Column("actors", ARRAY(Text), nullable=False),
    Column("previous_hash", Text, nullable=False),
    Column("hash", Text, nullable=False),
    Column("records", Text, nullable=False),
    PrimaryKeyConstraint("first_position", name="access_log_batches_pkey"),
    UniqueConstraint("last_position", name="access_log_batches_last_position_key"),
    UniqueConstraint("previous_hash", name="access_log_batches_previous_hash_key"),
    UniqueConstraint("hash", name="access_log_batches_hash_key"),
    CheckConstraint("last_position >= first_position"),
    CheckConstraint("last_at >= first_at"),
    Index("access_log_batches_case_ids", "case_ids", postgresql_using="gin"),
    Index("access_log_batches_actors", "actors", postgresql_using="gin"),
    Index("access_log_batches_last_at", "last_at"),
)

case_data_keys = Table(
    "case_data_keys",
    metadata,
    Column("case_id", Text, nullable=False),
    Column("wrapped", BYTEA),
    Column("master_key_id", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), server_default=text("now()"), nullable=False),
    Column("destroyed_at", DateTime(timezone=True)),
    PrimaryKeyConstraint("case_id", name="case_data_keys_pkey"),
    CheckConstraint("(wrapped IS NULL) = (destroyed_at IS NOT NULL)"),
)
