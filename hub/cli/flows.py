"""Flows by hand: validate a file, ingest it, export the national feed, and the flows
kept in the store (list, replay, apply a held snapshot, discard it).

A flow is one file (or one sync's fetch) applied as one transaction; see
:mod:`hub.pipeline.ingest`. What a flow did is printed by :func:`render.print_flow_result`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

import typer

from hub.cli import common, render
from hub.cli.common import ConfigOption, open_store, reports_errors, say, say_err
from hub.errors import RecordError
from hub.lheo.reader import LheoReader
from hub.pipeline.apply import discard
from hub.pipeline.ingest import ingest
from hub.pipeline.replay import apply_confirmed, replay_flow
from hub.publish.feed import current_cursor, open_lheo
from hub.store import Store
from hub.store.flows import recent_flows

ONLY_DELETIONS = (
    "offres holds no formation: a delta that only deletes, which the hub's push "
    "API accepts, but which LHEO does not allow (the XSD requires one formation)"
)


@reports_errors
def validate(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)]) -> None:
    """Validate an LHEO file against the official XSD; exit 1 when anything is invalid.

    Each formation is checked, then the document itself: an ``<offres>`` with no formation,
    or elements where LHEO has none, make the file invalid even if every formation is valid.
    """
    invalid = total = 0
    with file.open("rb") as stream:
        reader = LheoReader(stream)
        for record in reader:
            total += 1
            if record.errors:
                invalid += 1
                for error in record.errors:
                    _print_error(file, error)
    document_errors = _document_errors(reader)
    for error in document_errors:
        _print_error(file, error)
    summary = f"{file}: LHEO {reader.version}, {total} formations, {invalid} invalid"
    if document_errors:
        summary += f", {len(document_errors)} document errors"
    common.out.print(summary)
    if invalid or document_errors:
        raise typer.Exit(1)


def _print_error(file: Path, error: RecordError) -> None:
    where = f"{file}:{error.line}" if error.line is not None else str(file)
    say(f"{where}: {error.path}: {error.reason}")


def _document_errors(reader: LheoReader) -> list[RecordError]:
    """What is wrong with the document itself; complete once the reader has been iterated
    (root extras come after ``</offres>``)."""
    errors = list(reader.document_errors)
    if reader.only_deletions:
        errors.append(RecordError(None, None, "lheo/offres", ONLY_DELETIONS, stage="document"))
    return errors


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
    settings, store = open_store(config)
    with file.open("rb") as stream:
        result = ingest(
            store,
            stream,
            source=name,
            region=region,
            kind="snapshot" if snapshot else "delta",
            settings=settings,
            name=file.name,
        )
    render.print_flow_result(result)


@reports_errors
def export(
    since: Annotated[int | None, typer.Option(help="Only changes after this cursor")] = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Output file (default stdout)")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Write the national feed as LHEO 2.3 (full, or a delta since a cursor).

    With nothing to send, no document is written (LHEO 2.3 forbids an empty ``<offres>``):
    one line on stderr says so, and the exit status is 0.
    """
    _, store = open_store(config)
    chunks = open_lheo(store.engine, since=since)
    if chunks is None:
        _say_nothing_to_export(store, since, out_file)
    elif out_file is None:
        for chunk in chunks:
            sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
    else:
        _write_whole(chunks, out_file)
        common.err.print(f"wrote {out_file} ({out_file.stat().st_size} bytes)")


def _say_nothing_to_export(store: Store, since: int | None, out_file: Path | None) -> None:
    with store.engine.connect() as connection:
        cursor = current_cursor(connection)
    what = (
        "aucune formation en ligne"
        if since is None
        else f"aucun changement après le curseur {since}"
    )
    written = f"{out_file} non écrit" if out_file is not None else "aucun document écrit"
    say_err(f"rien à exporter : {what} (curseur actuel {cursor}) ; {written}")


def _write_whole(chunks: Iterable[bytes], out_file: Path) -> None:
    """Write ``out_file`` through a hidden partial file: a failed write leaves no half file."""
    partial = out_file.with_name(f".{out_file.name}.partial")
    try:
        with partial.open("wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
        partial.replace(out_file)
    finally:
        partial.unlink(missing_ok=True)


@reports_errors
def flows_command(
    source: Annotated[str | None, typer.Option(help="Only this source")] = None,
    status_: Annotated[
        str | None,
        typer.Option("--status", help="received, applied, failed, held, superseded, discarded"),
    ] = None,
    limit: Annotated[int, typer.Option(help="How many, newest first")] = 30,
    config: ConfigOption = None,
) -> None:
    """List the stored flows, newest first: ids to replay, apply or discard."""
    _, store = open_store(config)
    rows = recent_flows(store.engine, source=source, status=status_, limit=limit)
    if not rows:
        common.out.print(
            "no flow"
            + (f" of {source}" if source else "")
            + (f" with status {status_}" if status_ else "")
        )
        return
    render.print_flows(rows)


@reports_errors
def replay(
    flow_id: Annotated[str, typer.Argument(help="Id of a stored flow (see `hub status`, /)")],
    config: ConfigOption = None,
) -> None:
    """Apply a stored flow again from its raw archive, as a new flow (records stored as
    sent count unchanged: nothing is applied twice)."""
    settings, store = open_store(config)
    result = replay_flow(store, flow_id, settings=settings)
    common.err.print(f"flow {result.flow_id} replays flow {flow_id}")
    render.print_flow_result(result)


@reports_errors
def apply_command(
    flow_id: Annotated[str, typer.Argument(help="Id of a held or received flow (see `hub flows`)")],
    confirm_deletions: Annotated[
        bool,
        typer.Option(
            "--confirm-deletions", help="Apply a held snapshot with the deletions it makes"
        ),
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Apply a flow left received, or a snapshot held because it deletes much of its source."""
    settings, store = open_store(config)
    if not confirm_deletions:
        raise typer.BadParameter(
            "applying a held snapshot deletes what it lacks: add --confirm-deletions once "
            "you have checked the source's export (see the flow's page)"
        )
    result = apply_confirmed(store, flow_id, settings=settings)
    render.print_flow_result(result)


@reports_errors
def discard_command(
    flow_id: Annotated[str, typer.Argument(help="Id of a held flow (see `hub flows`)")],
    reason: Annotated[str, typer.Option(help="Why, for the flow's page")] = "discarded by hand",
    config: ConfigOption = None,
) -> None:
    """Drop a held snapshot: nothing of it is applied; its files stay archived."""
    _, store = open_store(config)
    discard(store, flow_id, reason=reason)
    common.out.print(f"flow {flow_id} discarded: nothing of it was applied", markup=False)
