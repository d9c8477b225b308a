"""The harmonised offer in figures: key figures and session counts (``hub stats``), where
the map places the sessions (``hub geo report``), the mapping tables at work (``hub mapping
report`` and ``explain``), and harmonising the stored offer again (``hub remap``).

The figures are those of the API (:mod:`hub.publish.stats`, :mod:`hub.publish.geojson`),
read from the store; ``--format json`` prints the same documents the API publishes.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from hub.cli import common, render
from hub.cli.common import (
    ConfigOption,
    FormatOption,
    OutputFormat,
    open_store,
    reports_errors,
    say,
    say_err,
)
from hub.harmonise import load_harmoniser
from hub.pipeline.remap import remap
from hub.publish.geojson import geo_report
from hub.publish.stats import (
    SessionFilter,
    count_sessions,
    issue_counts,
    region_figures,
    resolve_filter,
)
from hub.store import Store

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


def _session_filter(**given: str | None) -> SessionFilter:
    try:
        return resolve_filter(**given)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


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
        region=region,
        departement=departement,
        kind=kind,
        certification=certification,
        conventionnement=conventionnement,
    )
    _, store = open_store(config)
    if (departement, kind, certification, conventionnement) != (None, None, None, None):
        _print_session_count(store, wanted, format_)
        return
    figures = region_figures(store.engine, None if region is None else wanted.region or "FR")
    if format_ is OutputFormat.table:
        render.print_figures(figures)
    else:
        render.print_rows(figures.flat(), format_, title="", document=figures.as_json())


def _print_session_count(store: Store, wanted: SessionFilter, format_: OutputFormat) -> None:
    """How many sessions ``wanted`` keeps: one line, or one row with the filter's criteria."""
    count = count_sessions(store.engine, wanted)
    if format_ is OutputFormat.table:
        criteria = ", ".join(f"{k} {v}" for k, v in wanted.describe().items())
        say(f"{count} sessions ({criteria})")
        return
    document = {"filter": wanted.describe(), "sessions": count}
    row = {**wanted.describe(), "sessions": count}
    render.print_rows([row], format_, title="", document=document)


@reports_errors
def mapping_report(
    source: Annotated[str | None, typer.Option(help="Only this source")] = None,
    format_: FormatOption = OutputFormat.table,
    config: ConfigOption = None,
) -> None:
    """Unmapped, suspicious and cleaned values of the live offer, per source and code."""
    _, store = open_store(config)
    with store.engine.connect() as connection:
        counts = issue_counts(connection, source=source)
    if not counts and format_ is OutputFormat.table:
        common.out.print(f"no mapping issue in the live offer{f' of {source}' if source else ''}")
        return
    render.print_rows(
        [asdict(c) for c in counts], format_, title="mapping issues of the live offer"
    )


@reports_errors
def mapping_explain(
    source: Annotated[str, typer.Option(help="Source name, e.g. grand-est")],
    code: Annotated[str, typer.Option(help="The code as the source sends it")],
    tables: TablesOption = None,
) -> None:
    """Which table rows map CODE for SOURCE, and why (file, line, row); exit 1 when none."""
    explanations = load_harmoniser(tables).explain(source=source, code=code)
    if not explanations:
        say_err(f"no row maps {code} for {source}")
        raise typer.Exit(1)
    for explanation in explanations:
        cells = ", ".join(f"{k}={v}" for k, v in explanation.row.items() if v)
        say(f"{explanation.table}:{explanation.line}: {explanation.reason}")
        say(f"    {cells}")


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
    _, store = open_store(config)
    report = geo_report(store.engine, wanted, limit=limit)
    positions = report.positions
    common.out.print(
        f"{positions['source']} sessions at the source's coordinates, "
        f"{positions['departement']} at their département's centre, {positions['none']} unlocated"
    )
    if report.unlocated:
        title = "unlocated sessions (not on the map)"
        render.print_rows(report.unlocated, OutputFormat.table, title=title)


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
    _, store = open_store(config)
    result = remap(store.engine, tables_dir=tables, dry_run=dry_run)
    verb = "would change" if dry_run else "changed"
    changed = sum(result.changed.values())
    by_source = ", ".join(f"{s} {n}" for s, n in sorted(result.changed.items()))
    say(
        f"{result.run_id}: {result.examined} formations examined, {changed} {verb}"
        + (f" ({by_source})" if by_source else "")
        + f", {result.issues_replaced} with new mapping issues only"
        + (f"; changes {result.first_seq}..{result.last_seq}" if result.first_seq else "")
    )
