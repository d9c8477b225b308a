"""The configured sources: sync one now (``hub sync``), list them (``hub sources``) and see
their sync health (``hub status``, the dashboard's table in the terminal).

A source is a file of ``config/regions``: a connector, a region, a URL and a schedule.
"""

from __future__ import annotations

import json
import os
from typing import Annotated

import typer

from hub.api.ops import health_json
from hub.cli import common, render
from hub.cli.common import ConfigOption, open_store, reports_errors, say, say_err
from hub.ops.demo import demo_for_source
from hub.ops.health import health_of
from hub.pipeline.sync import sync_source
from hub.settings import SourceSettings
from hub.store.cursors import load_cursor


@reports_errors
def sync_command(
    source: Annotated[str, typer.Argument(help="Source name (a file of config/regions)")],
    full: Annotated[bool, typer.Option(help="Ignore the stored cursor: fetch everything")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate and report; write nothing")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Sync one source now: gather → fetch → read → ingest, resuming from its cursor."""
    settings, store = open_store(config)
    with demo_for_source(settings, source):
        result = sync_source(store, settings, source, full=full, dry_run=dry_run)
    render.print_sync(result)
    if result.error is not None:
        say_err(f"error: {result.error}")
        raise typer.Exit(1)


@reports_errors
def sources_command(config: ConfigOption = None) -> None:
    """List the configured sources: connector, region, URL, schedule, secret, cursor."""
    settings, store = open_store(config)
    for name, source in sorted(settings.sources.items()):
        say(
            f"{name}{'' if source.enabled else ' (disabled)'}: connector {source.connector}, "
            f"region {source.region}, {source.url or 'no url'}, {_schedule(source)}, "
            f"{_secret(source)}, cursor {json.dumps(load_cursor(store, name))}"
        )


def _schedule(source: SourceSettings) -> str:
    rule = source.schedule
    return f"cron '{rule.cron}'" if rule.cron else f"every {rule.every}"


def _secret(source: SourceSettings) -> str:
    """Which environment variable holds the source's secret and whether it is set (never
    its value)."""
    if not source.token_env:
        return "no secret"
    state = "set" if os.environ.get(source.token_env) else "unset"
    return f"secret {source.token_env} ({state})"


@reports_errors
def status(
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table")] = False,
    check: Annotated[bool, typer.Option(help="Exit 1 if a source is stale or failing")] = False,
    config: ConfigOption = None,
) -> None:
    """Sync health of every source: the dashboard's table, in the terminal (UTC times)."""
    settings, store = open_store(config)
    sources = health_of(store, settings)
    if as_json:
        common.out.print_json(data={"sources": [health_json(s) for s in sources]})
    else:
        common.out.print(render.status_table(sources))
    if check and any(s.status in ("stale", "failing") for s in sources):
        raise typer.Exit(1)
