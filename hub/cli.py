"""``hub``: the command line a person drives the hub with.

Every command exits non-zero on failure with a one-line reason on stderr.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer
import uvicorn
from rich.console import Console
from rich.table import Table

from hub.api.app import create_app
from hub.errors import HubError
from hub.ingest import FlowResult, ingest, resume_pending
from hub.lheo.reader import LheoReader
from hub.publish.feed import write_lheo
from hub.settings import Settings, load_settings
from hub.store import Store

app = typer.Typer(
    help="LHEO sync hub: regional training offers in, one national LHEO 2.3 offer out.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

P = ParamSpec("P")
R = TypeVar("R")

ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="TOML configuration (default: config/hub.toml)")
]


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn the hub's errors into one line on stderr and exit status 1."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except HubError as exc:
            notes = " ".join(getattr(exc, "__notes__", []))
            err.print(
                "error: " + str(exc) + (f" — {notes}" if notes else ""),
                markup=False,
                highlight=False,
            )
            raise typer.Exit(1) from exc

    return wrapper


def _open_store(config: Path | None) -> tuple[Settings, Store]:
    settings = load_settings(config)
    return settings, Store.open(settings)


@app.command()
@reports_errors
def validate(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)]) -> None:
    """Validate an LHEO file against the official XSD; exit 1 when anything is invalid."""
    invalid = total = 0
    with file.open("rb") as stream:
        reader = LheoReader(stream)
        for record in reader:
            total += 1
            if record.errors:
                invalid += 1
                for error in record.errors:
                    out.print(
                        f"{file}:{error.line}: {error.path}: {error.reason}",
                        markup=False,
                        highlight=False,
                    )
    out.print(f"{file}: LHEO {reader.version}, {total} formations, {invalid} invalid")
    if invalid:
        raise typer.Exit(1)


def _print_result(result: FlowResult) -> None:
    counts = result.counts
    table = Table(
        title=f"flow {result.flow_id} ({result.source}, {result.kind})"
        + (" — dry run, nothing written" if result.dry_run else "")
    )
    for name in ("formations", "created", "updated", "unchanged", "deleted", "rejected", "stale"):
        table.add_column(name, justify="right")
    table.add_row(*(str(v) for v in counts.as_dict().values()))
    out.print(table)
    for error in result.rejections:
        out.print(f"  rejected: {error}", markup=False, highlight=False)


@app.command("ingest")
@reports_errors
def ingest_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    source: Annotated[str | None, typer.Option(help="Source name, e.g. dokelio")] = None,
    region: Annotated[str | None, typer.Option(help="INSEE region code of the source")] = None,
    snapshot: Annotated[bool, typer.Option(help="Full snapshot: delete what is absent")] = False,
    config: ConfigOption = None,
) -> None:
    """Ingest one LHEO file as a flow and print created/updated/unchanged/deleted/rejected."""
    if source is None and region is None:
        raise typer.BadParameter("give --source NAME or --region CODE")
    name = source or f"region-{region}"
    _, store = _open_store(config)
    with file.open("rb") as stream:
        result = ingest(
            store, stream, source=name, region=region, kind="snapshot" if snapshot else "delta"
        )
    _print_result(result)


@app.command()
@reports_errors
def export(
    since: Annotated[int | None, typer.Option(help="Only changes after this cursor")] = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Output file (default stdout)")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Write the national feed as LHEO 2.3 (full, or a delta since a cursor)."""
    _, store = _open_store(config)
    chunks = write_lheo(store.engine, since=since)
    if out_file is None:
        for chunk in chunks:
            sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
        return
    partial = out_file.with_name(f".{out_file.name}.partial")
    with partial.open("wb") as handle:
        for chunk in chunks:
            handle.write(chunk)
    partial.replace(out_file)
    err.print(f"wrote {out_file} ({out_file.stat().st_size} bytes)")


@app.command()
@reports_errors
def migrate(config: ConfigOption = None) -> None:
    """Bring the database schema to the latest migration."""
    settings = load_settings(config)
    Store.open(settings)
    out.print(f"schema current on {settings.store.database_url.split('@')[-1]}")


@app.command()
@reports_errors
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address")] = None,
    port: Annotated[int | None, typer.Option(help="Port")] = None,
    config: ConfigOption = None,
) -> None:
    """Run the HTTP API (and resume any flow a crash left half-done)."""
    settings, store = _open_store(config)
    for result in resume_pending(store):
        err.print(f"resumed flow {result.flow_id} of {result.source}")
    uvicorn.run(
        create_app(settings, store),
        host=host or settings.api.host,
        port=port or settings.api.port,
        log_level="info",
    )


def main() -> None:
    app()
