"""The partners the hub delivers to: run one publisher now (``hub publish``) and see where
each stands (``hub publishers``).

A publisher is a file of ``config/publishers``; its acknowledged cursor in the store says
what it has received, so a run sends what changed since, or resends a pending delivery.
"""

from __future__ import annotations

from typing import Annotated

import typer

from hub.cli import common, render
from hub.cli.common import ConfigOption, open_store, reports_errors, say
from hub.errors import HubError
from hub.publish.publishers import (
    PublishContext,
    load_publishers,
    publisher_config,
    publisher_status,
    run_publisher,
)


@reports_errors
def publish_command(
    name: Annotated[str, typer.Argument(help="Partner, as named in config/publishers/")],
    full: Annotated[bool, typer.Option("--full", help="Send a full file, not a delta")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Build what would be sent; send and record nothing")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Run one publisher now: resend what is pending, else deliver what changed."""
    settings, store = open_store(config)
    partner = publisher_config(settings, name)
    result = run_publisher(store, partner, PublishContext(settings), full=full, dry_run=dry_run)
    common.out.print(render.publish_table(result))
    if (files := render.files_table(result)) is not None:
        common.out.print(files)
    if result.note:
        say(f"note: {result.note}")
    if result.outcome in ("failed", "rejected"):
        raise HubError(f"publisher {name}: {result.outcome}: {result.error}")


@reports_errors
def publishers_command(config: ConfigOption = None) -> None:
    """List the partners: acknowledged cursor, lag behind the store, last run and outcome."""
    settings, store = open_store(config)
    common.out.print(render.publishers_table(publisher_status(store, load_publishers(settings))))
