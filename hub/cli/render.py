"""How ``hub`` commands show their results: plain lines, rich tables, JSON and CSV.

The commands decide what to show; this module decides how it looks. Functions named
``*_table`` build a rich table and leave printing to the caller; ``print_*`` functions
print (several lines, or a table followed by notes).
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from rich import box
from rich.table import Table

from hub.api.figures import fr_duration
from hub.cli import common
from hub.cli.common import OutputFormat, say
from hub.ops.health import SourceHealth
from hub.ops.history import FlowPoint
from hub.pipeline.ingest import FlowResult
from hub.pipeline.result import SyncResult
from hub.publish.publishers.runner import PublishResult
from hub.publish.publishers.status import PublisherStatus
from hub.publish.stats import Figures
from hub.store.tokens import TokenInfo

# -- flows and syncs ----------------------------------------------------------------------


def print_flow_result(result: FlowResult) -> None:
    """A flow: its title and status, its counts, why it was held, each rejection or flag."""
    title = f"flow {result.flow_id} ({result.source}, {result.kind})"
    if result.status != "applied":
        title += f" — {result.status}"
    if result.dry_run:
        title += " — dry run, nothing written"
    say(title)
    counts = " · ".join(
        f"{name.replace('_', ' ')} {value}" for name, value in result.counts.as_dict().items()
    )
    say(f"  {counts}")
    if result.note:
        say(f"  {result.status}: {result.note}")
    if result.status == "held":
        say(
            f"  check the source's export, then `hub apply {result.flow_id} "
            f"--confirm-deletions` or `hub discard {result.flow_id}`"
        )
    for error in result.rejections:
        label = "flagged" if error.kept else "rejected"
        where = f"{error.file}: " if error.file else ""
        say(f"  {label}: {where}{error}")


def print_sync(result: SyncResult) -> None:
    """A sync: each of its flows, then the totals, what the connector dropped or flagged,
    and how the cursor moved."""
    for flow in result.flows:
        print_flow_result(flow)
    totals = result.totals().as_dict()
    say(
        f"{result.source}: {result.items} items fetched, {len(result.flows)} flows, "
        f"{result.unchanged_items} unchanged, {result.retries} retries; "
        + ", ".join(f"{name} {value}" for name, value in totals.items())
        + (" — dry run, nothing written" if result.dry_run else "")
    )
    flags: dict[str, int] = {}
    for finding in result.findings:
        if finding.stage == "flag":
            code = finding.reason.split(":", 1)[0]
            flags[code] = flags.get(code, 0) + 1
        else:
            say(f"  dropped: {finding}")
    for code, count in sorted(flags.items()):
        say(f"  flagged {code}: {count}")
    say(f"  cursor: {result.cursor_before} → {result.cursor_after}")


def print_flows(rows: Sequence[Any]) -> None:
    """Stored flows (rows of ``recent_flows``) as a table, then the note of each that has one."""
    table = Table(title="flows (newest first)")
    table.add_column("flow", no_wrap=True)
    for name in ("source", "kind", "received (UTC)", "status", "formations", "rejected"):
        table.add_column(name, justify="right" if name in ("formations", "rejected") else "left")
    for row in rows:
        table.add_row(
            row.id, row.source, row.kind, f"{row.received_at:%Y-%m-%d %H:%M}", row.status,
            str(row.formations), str(row.rejected),
        )  # fmt: skip
    common.out.print(table)
    for row in rows:
        if row.note:
            say(f"{row.id} {row.status}: {row.note}")


# -- sync health: the dashboard's table in characters -------------------------------------

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


def spark(points: Sequence[FlowPoint]) -> str:
    """The dashboard's sparkline in characters: formations per flow, ``×`` for a failed flow."""
    top = max((p.counts["formations"] for p in points), default=0) or 1
    steps = len(SPARK) - 1
    return "".join(
        "×" if p.status == "failed" else SPARK[round(steps * p.counts["formations"] / top)]
        for p in points
    )


def status_table(sources: Sequence[SourceHealth]) -> Table:
    """One row per source: status, last success, lag, last flow's counts, trend (UTC times)."""
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
            spark(s.trend[-TREND_CHARS:]),
        )
    return table


# -- tokens, figures, rows ----------------------------------------------------------------


def tokens_table(infos: Sequence[TokenInfo]) -> Table:
    """Tokens by id, scope and source; never a secret (only digests are stored)."""
    table = Table(title="tokens")
    table.add_column("id", no_wrap=True, min_width=14)
    for name in ("scope", "source", "label", "created", "revoked"):
        table.add_column(name)
    for info in infos:
        table.add_row(
            info.token_id, info.scope, info.source or "", info.label or "",
            f"{info.created_at:%Y-%m-%d}",
            f"{info.revoked_at:%Y-%m-%d}" if info.revoked_at else "",
        )  # fmt: skip
    return table


def print_figures(figures: Figures) -> None:
    """Key figures per region, then each region's certifying sessions by certification."""
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
    common.out.print(main)
    common.out.print(certifying)


def print_rows(
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
        common.out.print(table)


# -- publishers ---------------------------------------------------------------------------


def _cursor(value: int | None) -> str:
    return "—" if value is None else str(value)


def _when(value: datetime | None) -> str:
    return "never" if value is None else f"{value:%Y-%m-%d %H:%M}"


def publish_table(result: PublishResult) -> Table:
    """One run: what was (or would be) delivered, its files and checksums."""
    title = f"publish {result.publisher}: {result.outcome}"
    if result.resent:
        title += " (pending delivery sent again)"
    table = Table(title=title)
    for name in ("kind", "delivery", "from", "to", "formations", "deletions", "retries"):
        table.add_column(name, justify="right" if name != "kind" else "left")
    table.add_row(
        result.kind or "—",
        result.delivery_id or "—",
        _cursor(result.from_cursor),
        _cursor(result.to_cursor),
        str(result.formations),
        str(result.deletions),
        str(result.retries),
    )
    return table


def files_table(result: PublishResult) -> Table | None:
    """The files a run delivered (name, size, SHA-256), or None when it delivered none."""
    if not result.files:
        return None
    table = Table(title="files")
    for name in ("name", "bytes", "sha256"):
        table.add_column(name, justify="right" if name == "bytes" else "left")
    for file in result.files:
        table.add_row(file.name, str(file.size), file.sha256)
    return table


def publishers_table(statuses: list[PublisherStatus]) -> Table:
    """Every partner: its lag behind the store and its last run (errors in the caption)."""
    store_cursor = statuses[0].store_cursor if statuses else 0
    table = Table(title=f"publishers (store cursor {store_cursor})", box=box.SIMPLE_HEAD)
    table.add_column("partner", no_wrap=True)
    for name in ("acked", "lag", "holds"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("last run", no_wrap=True)
    table.add_column("outcome", no_wrap=True)
    errors = []
    for status in statuses:
        table.add_row(
            status.name
            + ("" if status.enabled else " (off)")
            + ("" if status.publisher else " (?)"),
            _cursor(status.cursor_acknowledged),
            str(status.lag),
            str(status.holdings),
            _when(status.last_run_at),
            (status.last_outcome or "") + (" *" if status.pending_delivery else ""),
        )
        if status.last_error:
            errors.append(f"{status.name}: {status.last_error[:300]}")
    if any(status.publisher is None for status in statuses):
        errors.append("(?) in the ledger but no longer in config/publishers")
    if any(status.pending_delivery for status in statuses):
        errors.append("* a delivery is pending: the next run sends it again")
    table.caption = "\n".join(errors) or None
    return table
