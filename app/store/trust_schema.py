"""The checkpoint tree's tables as SQLAlchemy Core, on the schema's one `metadata`.

Migration 0005 creates them from `sql/migrations/0005/`; these declarations only let
Alembic compare (no drift). `app.store.schema` imports this module at its end.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, BYTEA

from app.store.metadata import metadata

merkle_leaves = Table(
    "merkle_leaves",
    metadata,
    Column("leaf_index", BigInteger, nullable=False),
    Column("kind", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("digest", BYTEA, nullable=False),
    Column("leaf_hash", BYTEA, nullable=False),
    Column("position", BigInteger, nullable=False),
    PrimaryKeyConstraint("leaf_index", name="merkle_leaves_pkey"),
    UniqueConstraint(
        "kind", "subject", "version", "digest", name="merkle_leaves_kind_subject_version_digest_key"
    ),
    CheckConstraint("leaf_index >= 0"),
    CheckConstraint("kind IN ('event', 'policy')"),
    CheckConstraint("version >= 0"),
    CheckConstraint("octet_length(digest) = 32"),
    CheckConstraint("octet_length(leaf_hash) = 32"),
)

merkle_frontier = Table(
    "merkle_frontier",
    metadata,
    Column("tree_size", BigInteger, nullable=False),
    Column("last_position", BigInteger, nullable=False),
    Column("hashes", ARRAY(BYTEA), nullable=False),
    PrimaryKeyConstraint("tree_size", name="merkle_frontier_pkey"),
    CheckConstraint("tree_size >= 0"),
)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("tree_size", BigInteger, nullable=False),
    Column("root_hash", BYTEA, nullable=False),
    Column("last_position", BigInteger, nullable=False),
    Column("signed_at", DateTime(timezone=True), nullable=False),
    Column("note", Text, nullable=False),
    Column("recorded_at", DateTime(timezone=True), server_default=text("now()"), nullable=False),
    PrimaryKeyConstraint("tree_size", name="checkpoints_pkey"),
    CheckConstraint("tree_size >= 0"),
    CheckConstraint("octet_length(root_hash) = 32"),
)
