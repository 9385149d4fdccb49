"""The one SQLAlchemy `MetaData` every table declaration of the store is registered on.

Alembic compares it with the database (`tests/integration/test_migrations.py`);
`app.store.schema` imports each module that declares tables, so importing the
schema registers them all.
"""

from __future__ import annotations

from sqlalchemy import MetaData

metadata = MetaData()
