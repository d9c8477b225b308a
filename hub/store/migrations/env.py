"""Alembic environment: runs against the engine the hub hands over, or HUB_DATABASE_URL."""

from __future__ import annotations

import os

from alembic import context

from hub.store.db import make_engine
from hub.store.tables import METADATA

engine = context.config.attributes.get("engine")
if engine is None:
    engine = make_engine(os.environ.get("HUB_DATABASE_URL", "sqlite:///var/hub.db"))

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=METADATA,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
