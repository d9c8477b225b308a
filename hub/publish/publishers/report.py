"""How ``hub publish`` and ``hub publishers`` show a run and the partners (rich tables)."""

from __future__ import annotations

from datetime import datetime

from rich import box
from rich.table import Table

from hub.publish.publishers.runner import PublishResult
from hub.publish.publishers.status import PublisherStatus

__all__ = ["result_table", "status_table"]


def _cursor(value: int | None) -> str:
    return "—" if value is None else str(value)


def _when(value: datetime | None) -> str:
    return "never" if value is None else f"{value:%Y-%m-%d %H:%M}"


def result_table(result: PublishResult) -> Table:
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
    if not result.files:
        return None
    table = Table(title="files")
    for name in ("name", "bytes", "sha256"):
        table.add_column(name, justify="right" if name == "bytes" else "left")
    for file in result.files:
        table.add_row(file.name, str(file.size), file.sha256)
    return table


def status_table(statuses: list[PublisherStatus]) -> Table:
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
