"""Alembic environment: the engine is handed in by safecities.store.db.upgrade()."""

from __future__ import annotations

from alembic import context

from safecities.store.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        from safecities.store.db import get_engine

        engine = get_engine()
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=engine.dialect.name == "sqlite",
        )
        context.run_migrations()


run_migrations_online()
