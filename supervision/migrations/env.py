"""Alembic environment: the engine comes from the caller (supervision.db.upgrade)."""

from __future__ import annotations

import importlib
import os

from alembic import context
from sqlmodel import SQLModel

import supervision.models  # noqa: F401  (registers the core tables for autogenerate)

# For autogenerating a domain's migration: SUPERVISION_ALEMBIC_MODELS=cameras.models,risk.models
for _module in filter(None, os.environ.get("SUPERVISION_ALEMBIC_MODELS", "").split(",")):
    importlib.import_module(_module.strip())

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        from supervision.db import get_engine

        engine = get_engine()
    # Alembic owns the transaction (not an outer engine.begin()): a migration that must run outside one,
    # such as PostgreSQL's ALTER TYPE ... ADD VALUE (core_0006), can then open an autocommit block.
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
