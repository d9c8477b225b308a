"""Running the hub: ``hub serve`` (the HTTP API with the scheduler and the publishers) and
``hub migrate`` (the database schema alone).

``serve`` first resumes any flow a killed process left half-done, then starts the demo a
development configuration names (:mod:`hub.ops.demo` loads it by name: the ``hub`` command
never imports the simulators), the sync scheduler and the publishers beside uvicorn, and
stops them in the reverse order when uvicorn returns.
"""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from hub.api.app import create_app
from hub.cli import common
from hub.cli.common import ConfigOption, reports_errors
from hub.ops.demo import start_demo
from hub.ops.logging import configure_logging
from hub.ops.publishing import start_publishing
from hub.ops.scheduler import start_scheduler
from hub.pipeline.replay import resume_pending
from hub.settings import load_settings
from hub.store import Store


@reports_errors
def migrate(config: ConfigOption = None) -> None:
    """Bring the database schema to the latest migration."""
    settings = load_settings(config)
    Store.open(settings)
    common.out.print(f"schema current on {settings.store.database_url.split('@')[-1]}")


@reports_errors
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address")] = None,
    port: Annotated[int | None, typer.Option(help="Port")] = None,
    config: ConfigOption = None,
) -> None:
    """Run the HTTP API and the scheduler (and resume any flow a crash left half-done)."""
    settings = load_settings(config)
    configure_logging(settings.logging)
    store = Store.open(settings)
    for result in resume_pending(store, settings):
        common.err.print(f"resumed flow {result.flow_id} of {result.source}: {result.status}")
    demo = start_demo(settings, store)  # [simulators]: development only, loaded by name
    scheduler = start_scheduler(store, settings)
    publishing = start_publishing(settings, store)
    try:
        uvicorn.run(
            create_app(settings, store),
            host=host or settings.api.host,
            port=port or settings.api.port,
            log_level=settings.logging.level.lower(),
            log_config=None,  # uvicorn's lines go through hub.ops.logging, in the same format
        )
    finally:
        publishing.stop()
        if scheduler is not None:
            scheduler.shutdown()
        if demo is not None:
            demo.stop()
