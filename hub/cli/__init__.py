"""``hub``: the command line a person drives the hub with.

Every command exits non-zero on failure with a one-line reason on stderr.

This module only assembles the command: each command lives in the module of its group
(``flows``, ``serve``, ``sources``, ``tokens``, ``figures``, ``publish``), what they share
in ``common``, and how their results look in ``render``. ``hub --help`` lists the commands
in the order they are registered here, then the groups (tokens, mapping, geo).
"""

from __future__ import annotations

import typer

from hub.cli import figures, flows, publish, serve, sources, tokens

app = typer.Typer(
    help="LHEO sync hub: regional training offers in, one national LHEO 2.3 offer out.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

# Flows by hand, and running the hub.
app.command("validate")(flows.validate)
app.command("ingest")(flows.ingest_command)
app.command("export")(flows.export)
app.command("migrate")(serve.migrate)
app.command("serve")(serve.serve)

# API tokens.
tokens_app = typer.Typer(help="API tokens: push (one source), admin, feed consumer keys.")
app.add_typer(tokens_app, name="tokens")
tokens_app.command("create")(tokens.tokens_create)
tokens_app.command("revoke")(tokens.tokens_revoke)
tokens_app.command("list")(tokens.tokens_list)

# Harmonisation: key figures, session counts, the map's placements, mapping report, remap.
app.command("stats")(figures.stats_command)
mapping_app = typer.Typer(
    help="The mapping tables at work: what was not mapped, and why a code maps."
)
app.add_typer(mapping_app, name="mapping")
mapping_app.command("report")(figures.mapping_report)
mapping_app.command("explain")(figures.mapping_explain)
geo_app = typer.Typer(help="Where the map (GET /v1/feed/geojson) places the sessions.")
app.add_typer(geo_app, name="geo")
geo_app.command("report")(figures.geo_report_command)
app.command("remap")(figures.remap_command)

# Operations: sync health, the stored flows, syncs and sources, publishers.
app.command("status")(sources.status)
app.command("replay")(flows.replay)
app.command("apply")(flows.apply_command)
app.command("discard")(flows.discard_command)
app.command("flows")(flows.flows_command)
app.command("sync")(sources.sync_command)
app.command("sources")(sources.sources_command)
app.command("publish")(publish.publish_command)
app.command("publishers")(publish.publishers_command)


def main() -> None:
    app()


__all__ = ["app", "main"]
