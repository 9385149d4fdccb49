"""The UI sessions table as SQLAlchemy Core, on the schema's one `metadata`.

Migration 0006 creates it from `sql/migrations/0006/`; this declaration only lets
Alembic compare (no drift). `app.store.schema` imports this module at its end.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Index, Table, Text, text

from app.store.metadata import metadata

ui_sessions = Table(
    "ui_sessions",
    metadata,
    Column("session_hash", Text, primary_key=True),
    Column("key_id", Text, ForeignKey("api_keys.key_id", ondelete="CASCADE"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Index("ui_sessions_key_id", "key_id"),
)
