"""The access record and the wrapped data keys as SQLAlchemy Core, on the schema's one
`metadata`.

Migration 0008 creates them from `sql/migrations/0008/` (with the append-only trigger
and the functions Core cannot express); these declarations only let Alembic compare
(no drift). `app.store.access_log` imports this module; `app.store.schema` may import
it at its end, as it does `trust_schema`.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, BYTEA

from app.store.metadata import metadata

access_log = Table(
    "access_log",
    metadata,
    Column("position", BigInteger, Identity(always=True), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("key_id", Text),
    Column("role", Text),
    Column("provider_id", Text),
    Column("client", Text),
    Column("case_ids", ARRAY(Text), nullable=False),
    Column("endpoint", Text, nullable=False),
    Column("request_id", Text),
    Column("status", Integer, nullable=False),
    Column("previous_hash", Text, nullable=False),
    Column("hash", Text, nullable=False),
    PrimaryKeyConstraint("position", name="access_log_pkey"),
    UniqueConstraint("hash", name="access_log_hash_key"),
    Index("access_log_case_ids", "case_ids", postgresql_using="gin"),
    Index("access_log_key_id", "key_id", "position"),
    Index("access_log_at", "at"),
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
