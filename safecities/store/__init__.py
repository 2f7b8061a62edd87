"""The store: SQLAlchemy 2 models, Alembic migrations, sessions and the append-only audit log."""
