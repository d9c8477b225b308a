"""``hub``: the command line a person drives the hub with.

Every command exits non-zero on failure with a one-line reason on stderr.
"""

from __future__ import annotations

import csv
import functools
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
import uvicorn
from rich.console import Console
from rich.table import Table

from connectors.simulators import simulator_for, start_simulators
from hub.api.app import create_app
from hub.api.figures import fr_duration
from hub.api.ops import health_json
from hub.auth import Scope, create_token, list_tokens, revoke_tokens
from hub.errors import HubError, RecordError
from hub.harmonise import load_harmoniser
from hub.ingest import FlowResult, discard, ensure_source, ingest
from hub.lheo.reader import LheoReader
from hub.logging import configure_logging
from hub.publish.feed import current_cursor, open_lheo
from hub.publish.geojson import geo_report
from hub.publish.publishers import (
    PublishContext,
    load_publishers,
    publisher_config,
    publisher_status,
    run_publisher,
)
from hub.publish.publishers.report import files_table, result_table, status_table
from hub.publish.publishers.serve import start_publishing
from hub.publish.stats import (
    SessionFilter,
    count_sessions,
    issue_counts,
    region_figures,
    resolve_filter,
)
from hub.remap import remap
from hub.runs import apply_confirmed, replay_flow, resume_pending
from hub.scheduler import start_scheduler
from hub.settings import Settings, load_settings
from hub.status import FlowPoint, health_of
from hub.store import Store
from hub.store.flows import recent_flows
from hub.sync import SyncResult, load_cursor, sync_source

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
    """Validate an LHEO file against the official XSD; exit 1 when anything is invalid.

    Each formation is checked, then the document itself: an ``<offres>`` with no formation,
    or elements where LHEO has none, make the file invalid even if every formation is valid.
    """
    invalid = total = 0

    def show(error: RecordError) -> None:
        where = f"{file}:{error.line}" if error.line is not None else str(file)
        out.print(f"{where}: {error.path}: {error.reason}", markup=False, highlight=False)

    with file.open("rb") as stream:
        reader = LheoReader(stream)
        for record in reader:
            total += 1
            if record.errors:
                invalid += 1
                for error in record.errors:
                    show(error)
    # Complete once iteration ends (root extras come after </offres>).
    document_errors = list(reader.document_errors)
    if reader.only_deletions:
        document_errors.append(
            RecordError(
                None,
                None,
                "lheo/offres",
                "offres holds no formation: a delta that only deletes, which the hub's push "
                "API accepts, but which LHEO does not allow (the XSD requires one formation)",
                stage="document",
            )
        )
    for error in document_errors:
        show(error)
    summary = f"{file}: LHEO {reader.version}, {total} formations, {invalid} invalid"
    if document_errors:
        summary += f", {len(document_errors)} document errors"
    out.print(summary)
    if invalid or document_errors:
        raise typer.Exit(1)


def _print_result(result: FlowResult) -> None:
    title = f"flow {result.flow_id} ({result.source}, {result.kind})"
    if result.status != "applied":
        title += f" — {result.status}"
    if result.dry_run:
        title += " — dry run, nothing written"
    out.print(title, markup=False, highlight=False)
    counts = " · ".join(
        f"{name.replace('_', ' ')} {value}" for name, value in result.counts.as_dict().items()
    )
    out.print(f"  {counts}", markup=False, highlight=False)
    if result.note:
        out.print(f"  {result.status}: {result.note}", markup=False, highlight=False)
    if result.status == "held":
        out.print(
            f"  check the source's export, then `hub apply {result.flow_id} "
            f"--confirm-deletions` or `hub discard {result.flow_id}`",
            markup=False,
            highlight=False,
        )
    for error in result.rejections:
        label = "flagged" if error.kept else "rejected"
        where = f"{error.file}: " if error.file else ""
        out.print(f"  {label}: {where}{error}", markup=False, highlight=False)


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
    settings, store = _open_store(config)
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
    """Write the national feed as LHEO 2.3 (full, or a delta since a cursor).

    With nothing to send, no document is written (LHEO 2.3 forbids an empty ``<offres>``):
    one line on stderr says so, and the exit status is 0.
    """
    _, store = _open_store(config)
    chunks = open_lheo(store.engine, since=since)
    if chunks is None:
        with store.engine.connect() as connection:
            cursor = current_cursor(connection)
        what = (
            "aucune formation en ligne"
            if since is None
            else f"aucun changement après le curseur {since}"
        )
        written = f"{out_file} non écrit" if out_file is not None else "aucun document écrit"
        err.print(
            f"rien à exporter : {what} (curseur actuel {cursor}) ; {written}",
            markup=False,
            highlight=False,
        )
        return
    if out_file is None:
        for chunk in chunks:
            sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
        return
    partial = out_file.with_name(f".{out_file.name}.partial")
    try:
        with partial.open("wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
        partial.replace(out_file)
    finally:
        partial.unlink(missing_ok=True)  # a failed write leaves no half file behind
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
    """Run the HTTP API and the scheduler (and resume any flow a crash left half-done)."""
    settings = load_settings(config)
    configure_logging(settings.logging)
    store = Store.open(settings)
    for result in resume_pending(store, settings):
        err.print(f"resumed flow {result.flow_id} of {result.source}: {result.status}")
    start_simulators(settings, store)  # [simulators]: regional systems simulated locally
    scheduler = start_scheduler(store, settings)
    publishing = start_publishing(settings, store)
    try:
        uvicorn.run(
            create_app(settings, store),
            host=host or settings.api.host,
            port=port or settings.api.port,
            log_level=settings.logging.level.lower(),
            log_config=None,  # uvicorn's lines go through hub.logging, in the same format
        )
    finally:
        publishing.stop()
        if scheduler is not None:
            scheduler.shutdown()


tokens = typer.Typer(help="API tokens: push (one source), admin, feed consumer keys.")
app.add_typer(tokens, name="tokens")


@tokens.command("create")
@reports_errors
def tokens_create(
    source: Annotated[str | None, typer.Argument(help="Source the push token writes to")] = None,
    *,
    admin: Annotated[bool, typer.Option("--admin", help="An admin token instead")] = False,
    feed: Annotated[bool, typer.Option("--feed", help="A feed consumer key instead")] = False,
    region: Annotated[
        str | None, typer.Option(help="INSEE region code; creates the source if needed")
    ] = None,
    label: Annotated[str | None, typer.Option(help="Who or what the token is for")] = None,
    config: ConfigOption = None,
) -> None:
    """Create a token and print it once: only its SHA-256 is stored."""
    if sum((source is not None, admin, feed)) != 1:
        raise typer.BadParameter("give exactly one of SOURCE, --admin or --feed")
    settings, store = _open_store(config)
    configured = getattr(settings, "sources", {}).get(source) if source else None
    region = region or (configured.region if configured is not None else None)
    if source is not None and region is not None:
        ensure_source(store, source, region)
    scope: Scope = "admin" if admin else "feed" if feed else "push"
    issued = create_token(store.engine, scope, source=source, label=label)
    err.print(f"token {issued.token_id} ({scope}{f' for {source}' if source else ''}) — "
              "shown once, store it now:")  # fmt: skip
    out.print(issued.token, markup=False, highlight=False)


@tokens.command("revoke")
@reports_errors
def tokens_revoke(
    target: Annotated[str, typer.Argument(help="A token id (t_...) or a source name")],
    config: ConfigOption = None,
) -> None:
    """Revoke one token, or every live token of a source."""
    _, store = _open_store(config)
    revoked = revoke_tokens(store.engine, target)
    if not revoked:
        raise HubError(f"no live token {target!r} and no source {target!r} with live tokens",
                       hint="see `hub tokens list`")  # fmt: skip
    out.print(f"revoked {', '.join(revoked)}")


@tokens.command("list")
@reports_errors
def tokens_list(
    all_: Annotated[bool, typer.Option("--all", help="Include revoked tokens")] = False,
    config: ConfigOption = None,
) -> None:
    """List tokens (ids, scopes, sources); secrets are never stored, so never shown."""
    _, store = _open_store(config)
    table = Table(title="tokens")
    table.add_column("id", no_wrap=True, min_width=14)
    for name in ("scope", "source", "label", "created", "revoked"):
        table.add_column(name)
    for info in list_tokens(store.engine, include_revoked=all_):
        table.add_row(
            info.token_id, info.scope, info.source or "", info.label or "",
            f"{info.created_at:%Y-%m-%d}",
            f"{info.revoked_at:%Y-%m-%d}" if info.revoked_at else "",
        )  # fmt: skip
    out.print(table)


# Harmonisation: key figures, session counts, the map's placements, mapping report, remap.


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


FormatOption = Annotated[
    OutputFormat, typer.Option("--format", help="table, json, or csv (; separated)")
]
RegionOption = Annotated[
    str | None, typer.Option(help="INSEE region code (94) or name (Corse)", show_default=False)
]
DepartementOption = Annotated[str | None, typer.Option(help="INSEE département code (2A)")]
KindOption = Annotated[str | None, typer.Option(help="Language kind: fle, integration, asl...")]
CertificationOption = Annotated[str | None, typer.Option(help='Certification label: "DELF A2"')]
ConventionnementOption = Annotated[
    str | None, typer.Option(help="ofii, autre_public or non_conventionne")
]
TablesOption = Annotated[
    Path | None,
    typer.Option(
        "--tables", help="Mapping tables folder (default: $HUB_MAPPINGS_DIR, else packaged)"
    ),
]


def _write(
    rows: list[dict[str, Any]], fmt: OutputFormat, *, title: str, document: Any = None
) -> None:
    """Rows as a rich table, JSON (``document`` when given) or ``;``-separated CSV."""
    if fmt is OutputFormat.json:
        sys.stdout.write(
            json.dumps(rows if document is None else document, ensure_ascii=False, indent=2) + "\n"
        )
    elif fmt is OutputFormat.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]) if rows else [], delimiter=";")
        writer.writeheader()
        writer.writerows(rows)
    else:
        table = Table(title=title)
        for name in rows[0] if rows else []:
            table.add_column(name, justify="right" if isinstance(rows[0][name], int) else "left")
        for row in rows:
            table.add_row(*("" if v is None else str(v) for v in row.values()))
        out.print(table)


def _session_filter(**given: str | None) -> SessionFilter:
    try:
        return resolve_filter(**given)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


@app.command("stats")
@reports_errors
def stats_command(
    *,
    region: RegionOption = None,
    departement: DepartementOption = None,
    kind: KindOption = None,
    certification: CertificationOption = None,
    conventionnement: ConventionnementOption = None,
    format_: FormatOption = OutputFormat.table,
    config: ConfigOption = None,
) -> None:
    """Key figures of the language-training offer per region and for France.

    With --departement, --kind, --certification or --conventionnement, prints instead how
    many sessions match, e.g. `hub stats --region 94 --certification "DELF A2"
    --conventionnement ofii`: the OFII-funded DELF A2 sessions in Corsica.
    """
    wanted = _session_filter(
        region=region, departement=departement, kind=kind,
        certification=certification, conventionnement=conventionnement,
    )  # fmt: skip
    _, store = _open_store(config)
    if (departement, kind, certification, conventionnement) != (None, None, None, None):
        count = count_sessions(store.engine, wanted)
        if format_ is OutputFormat.table:
            criteria = ", ".join(f"{k} {v}" for k, v in wanted.describe().items())
            out.print(f"{count} sessions ({criteria})", markup=False, highlight=False)
            return
        document = {"filter": wanted.describe(), "sessions": count}
        _write([{**wanted.describe(), "sessions": count}], format_, title="", document=document)
        return
    figures = region_figures(store.engine, None if region is None else wanted.region or "FR")
    if format_ is not OutputFormat.table:
        _write(figures.flat(), format_, title="", document=figures.as_json())
        return
    main = Table(
        title=f"Language-training offer (cursor {figures.cursor})",
        caption="sessions by conventionnement: OFII, autre public, non conventionné",
    )
    main.add_column("region")
    main.add_column("nom", max_width=18, no_wrap=True)
    for name in ("actions", "OFII", "sessions", "OFII", "autre", "non", "CPF"):
        main.add_column(name, justify="right")
    certifying = Table(title="Certifying sessions by certification", show_header=False)
    certifying.add_column("region")
    certifying.add_column("sessions")
    for code, f in figures.regions.items():
        by_conventionnement = f.sessions_by_conventionnement.values()
        main.add_row(code, figures.names.get(code), *map(str, (
            f.actions, f.actions_ofii, f.sessions, *by_conventionnement, f.cpf_eligible,
        )))  # fmt: skip
        counted = " · ".join(f"{k} {n}" for k, n in f.sessions_by_certification.items())
        certifying.add_row(code, counted or "-")
    out.print(main)
    out.print(certifying)


mapping = typer.Typer(help="The mapping tables at work: what was not mapped, and why a code maps.")
app.add_typer(mapping, name="mapping")


@mapping.command("report")
@reports_errors
def mapping_report(
    source: Annotated[str | None, typer.Option(help="Only this source")] = None,
    format_: FormatOption = OutputFormat.table,
    config: ConfigOption = None,
) -> None:
    """Unmapped, suspicious and cleaned values of the live offer, per source and code."""
    _, store = _open_store(config)
    with store.engine.connect() as connection:
        counts = issue_counts(connection, source=source)
    if not counts and format_ is OutputFormat.table:
        out.print(f"no mapping issue in the live offer{f' of {source}' if source else ''}")
        return
    _write([asdict(c) for c in counts], format_, title="mapping issues of the live offer")


@mapping.command("explain")
@reports_errors
def mapping_explain(
    source: Annotated[str, typer.Option(help="Source name, e.g. grand-est")],
    code: Annotated[str, typer.Option(help="The code as the source sends it")],
    tables: TablesOption = None,
) -> None:
    """Which table rows map CODE for SOURCE, and why (file, line, row); exit 1 when none."""
    explanations = load_harmoniser(tables).explain(source=source, code=code)
    if not explanations:
        err.print(f"no row maps {code} for {source}", markup=False, highlight=False)
        raise typer.Exit(1)
    for explanation in explanations:
        cells = ", ".join(f"{k}={v}" for k, v in explanation.row.items() if v)
        out.print(
            f"{explanation.table}:{explanation.line}: {explanation.reason}",
            markup=False,
            highlight=False,
        )
        out.print(f"    {cells}", markup=False, highlight=False)


geo = typer.Typer(help="Where the map (GET /v1/feed/geojson) places the sessions.")
app.add_typer(geo, name="geo")


@geo.command("report")
@reports_errors
def geo_report_command(
    *,
    region: RegionOption = None,
    departement: DepartementOption = None,
    kind: KindOption = None,
    certification: CertificationOption = None,
    limit: Annotated[int, typer.Option(help="Name at most this many unlocated sessions")] = 50,
    config: ConfigOption = None,
) -> None:
    """Sessions placed at their own coordinates, at their département's centre, or nowhere."""
    wanted = _session_filter(
        region=region, departement=departement, kind=kind, certification=certification
    )
    _, store = _open_store(config)
    report = geo_report(store.engine, wanted, limit=limit)
    positions = report.positions
    out.print(
        f"{positions['source']} sessions at the source's coordinates, "
        f"{positions['departement']} at their département's centre, {positions['none']} unlocated"
    )
    if report.unlocated:
        _write(report.unlocated, OutputFormat.table, title="unlocated sessions (not on the map)")


@app.command("remap")
@reports_errors
def remap_command(
    tables: TablesOption = None,
    dry_run: Annotated[bool, typer.Option(help="Only say what would change")] = False,
    config: ConfigOption = None,
) -> None:
    """Harmonise the stored offer again after a mapping table changed.

    Changes are logged (feed cursor) only for formations whose harmonised result changed;
    everything is written in one transaction.
    """
    _, store = _open_store(config)
    result = remap(store.engine, tables_dir=tables, dry_run=dry_run)
    verb = "would change" if dry_run else "changed"
    changed = sum(result.changed.values())
    by_source = ", ".join(f"{s} {n}" for s, n in sorted(result.changed.items()))
    out.print(
        f"{result.run_id}: {result.examined} formations examined, {changed} {verb}"
        + (f" ({by_source})" if by_source else "")
        + f", {result.issues_replaced} with new mapping issues only"
        + (f"; changes {result.first_seq}..{result.last_seq}" if result.first_seq else ""),
        markup=False,
        highlight=False,
    )


# -- operations: the sync-health table and replays ------------------------------------

SPARK = "▁▂▃▄▅▆▇█"
STATUS_STYLE = {"ok": "green", "stale": "bold red", "failing": "dark_orange", "never": "dim"}
# created, updated, unchanged, deleted, rejected: as in `git diff --stat`, one mark each.
COUNTED = (
    ("+", "created"),
    ("~", "updated"),
    ("=", "unchanged"),
    ("-", "deleted"),
    ("x", "rejected"),
)
TREND_CHARS = 12


def _spark(points: Sequence[FlowPoint]) -> str:
    """The dashboard's sparkline in characters: formations per flow, ``×`` for a failed flow."""
    top = max((p.counts["formations"] for p in points), default=0) or 1
    steps = len(SPARK) - 1
    return "".join(
        "×" if p.status == "failed" else SPARK[round(steps * p.counts["formations"] / top)]
        for p in points
    )


@app.command()
@reports_errors
def status(
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table")] = False,
    check: Annotated[bool, typer.Option(help="Exit 1 if a source is stale or failing")] = False,
    config: ConfigOption = None,
) -> None:
    """Sync health of every source: the dashboard's table, in the terminal (UTC times)."""
    settings, store = _open_store(config)
    sources = health_of(store, settings)
    if as_json:
        out.print_json(data={"sources": [health_json(s) for s in sources]})
    else:
        table = Table(title="sync health")
        for name in ("source", "status", "last success", "lag / max", "last flow", "rejected"):
            table.add_column(name, min_width=len(name))
        table.add_column("trend", overflow="crop", no_wrap=True)
        for s in sources:
            counts = s.last_totals.counts if s.last_totals else None
            table.add_row(
                s.name + (f" ({s.region})" if s.region else ""),
                f"[{STATUS_STYLE[s.status]}]{s.status}[/]"
                + (f" ({s.consecutive_failures} failed)" if s.consecutive_failures else ""),
                f"{s.last_success:%m-%d %H:%M}" if s.last_success else "never",
                f"{fr_duration(s.lag)} / {fr_duration(s.staleness)}",
                " ".join(f"{mark}{counts[n]}" for mark, n in COUNTED) if counts else "",
                f"{s.rejection_rate:.1%}" if s.rejection_rate is not None else "",
                _spark(s.trend[-TREND_CHARS:]),
            )  # fmt: skip
        out.print(table)
    if check and any(s.status in ("stale", "failing") for s in sources):
        raise typer.Exit(1)


@app.command()
@reports_errors
def replay(
    flow_id: Annotated[str, typer.Argument(help="Id of a stored flow (see `hub status`, /)")],
    config: ConfigOption = None,
) -> None:
    """Apply a stored flow again from its raw archive, as a new flow (records stored as
    sent count unchanged: nothing is applied twice)."""
    settings, store = _open_store(config)
    result = replay_flow(store, flow_id, settings=settings)
    err.print(f"flow {result.flow_id} replays flow {flow_id}")
    _print_result(result)


@app.command("apply")
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
    settings, store = _open_store(config)
    if not confirm_deletions:
        raise typer.BadParameter(
            "applying a held snapshot deletes what it lacks: add --confirm-deletions once "
            "you have checked the source's export (see the flow's page)"
        )
    result = apply_confirmed(store, flow_id, settings=settings)
    _print_result(result)


@app.command("discard")
@reports_errors
def discard_command(
    flow_id: Annotated[str, typer.Argument(help="Id of a held flow (see `hub flows`)")],
    reason: Annotated[str, typer.Option(help="Why, for the flow's page")] = "discarded by hand",
    config: ConfigOption = None,
) -> None:
    """Drop a held snapshot: nothing of it is applied; its files stay archived."""
    _, store = _open_store(config)
    discard(store, flow_id, reason=reason)
    out.print(f"flow {flow_id} discarded: nothing of it was applied", markup=False)


@app.command("flows")
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
    _, store = _open_store(config)
    rows = recent_flows(store.engine, source=source, status=status_, limit=limit)
    if not rows:
        out.print(
            "no flow"
            + (f" of {source}" if source else "")
            + (f" with status {status_}" if status_ else "")
        )
        return
    table = Table(title="flows (newest first)")
    table.add_column("flow", no_wrap=True)
    for name in ("source", "kind", "received (UTC)", "status", "formations", "rejected"):
        table.add_column(name, justify="right" if name in ("formations", "rejected") else "left")
    for row in rows:
        table.add_row(
            row.id, row.source, row.kind, f"{row.received_at:%Y-%m-%d %H:%M}", row.status,
            str(row.formations), str(row.rejected),
        )  # fmt: skip
    out.print(table)
    for row in rows:
        if row.note:
            out.print(f"{row.id} {row.status}: {row.note}", markup=False, highlight=False)


@app.command("sync")
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
    settings, store = _open_store(config)
    with simulator_for(settings, source):
        result = sync_source(store, settings, source, full=full, dry_run=dry_run)
    _print_sync(result)
    if result.error is not None:
        err.print(f"error: {result.error}", markup=False, highlight=False)
        raise typer.Exit(1)


def _print_sync(result: SyncResult) -> None:
    for flow in result.flows:
        _print_result(flow)
    totals = result.totals().as_dict()
    out.print(
        f"{result.source}: {result.items} items fetched, {len(result.flows)} flows, "
        f"{result.unchanged_items} unchanged, {result.retries} retries; "
        + ", ".join(f"{name} {value}" for name, value in totals.items())
        + (" — dry run, nothing written" if result.dry_run else ""),
        markup=False,
        highlight=False,
    )
    flags: dict[str, int] = {}
    for finding in result.findings:
        if finding.stage == "flag":
            code = finding.reason.split(":", 1)[0]
            flags[code] = flags.get(code, 0) + 1
        else:
            out.print(f"  dropped: {finding}", markup=False, highlight=False)
    for code, count in sorted(flags.items()):
        out.print(f"  flagged {code}: {count}", markup=False, highlight=False)
    cursors = f"  cursor: {result.cursor_before} → {result.cursor_after}"
    out.print(cursors, markup=False, highlight=False)


@app.command("sources")
@reports_errors
def sources_command(config: ConfigOption = None) -> None:
    """List the configured sources: connector, region, URL, schedule, secret, cursor."""
    settings, store = _open_store(config)
    for name, source in sorted(settings.sources.items()):
        rule = source.schedule
        schedule = f"cron '{rule.cron}'" if rule.cron else f"every {rule.every}"
        secret = "no secret"
        if source.token_env:
            state = "set" if os.environ.get(source.token_env) else "unset"
            secret = f"secret {source.token_env} ({state})"
        out.print(
            f"{name}{'' if source.enabled else ' (disabled)'}: connector {source.connector}, "
            f"region {source.region}, {source.url or 'no url'}, {schedule}, {secret}, "
            f"cursor {json.dumps(load_cursor(store, name))}",
            markup=False,
            highlight=False,
        )


@app.command("publish")
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
    settings, store = _open_store(config)
    partner = publisher_config(settings, name)
    result = run_publisher(store, partner, PublishContext(settings), full=full, dry_run=dry_run)
    out.print(result_table(result))
    if (files := files_table(result)) is not None:
        out.print(files)
    if result.note:
        out.print(f"note: {result.note}", markup=False, highlight=False)
    if result.outcome in ("failed", "rejected"):
        raise HubError(f"publisher {name}: {result.outcome}: {result.error}")


@app.command("publishers")
@reports_errors
def publishers_command(config: ConfigOption = None) -> None:
    """List the partners: acknowledged cursor, lag behind the store, last run and outcome."""
    settings, store = _open_store(config)
    out.print(status_table(publisher_status(store, load_publishers(settings))))


def main() -> None:
    app()
