"""Plan and build a partner's next delivery: full or delta, written once into the spool.

The plan: a full file when asked, when the partner holds nothing yet, when its filter
changed or when ``full_every`` has passed; else a delta from the acknowledged cursor.
Snapshot publishers always write the whole filtered offer. The files are then built from
one consistent read of the store, so ``plan.to_cursor`` is exactly what they cover.
"""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path

from hub.publish.feed import current_cursor
from hub.publish.publishers.base import DeliveryKind, Plan, PublishContext, Publisher, Written
from hub.store import Store
from hub.store.db import snapshot_connection
from hub.store.ledger import PartnerState, partner_state

__all__ = ["build", "plan_kind"]


def plan_kind(
    publisher: Publisher,
    state: PartnerState | None,
    *,
    full: bool,
    context: PublishContext,
) -> tuple[DeliveryKind, int | None]:
    """Full or delta, and the acknowledged cursor a delta starts after."""
    config = publisher.config
    if publisher.mode == "snapshot":
        return "full", None
    if full or state is None or state.cursor_acknowledged is None:
        return "full", None
    if state.filter_fingerprint != config.fingerprint():
        return "full", None
    if config.full_every is not None and (
        state.last_full_at is None or context.clock() - state.last_full_at >= config.full_every
    ):
        return "full", None
    return "delta", state.cursor_acknowledged


def build(store: Store, publisher: Publisher, *, full: bool, spool: Path) -> tuple[Plan, Written]:
    """Plan and write the next delivery in ``spool``/<id>, from one consistent read."""
    config, context = publisher.config, publisher.context
    with store.engine.connect() as connection:
        state = partner_state(connection, config.name)
    kind, since = plan_kind(publisher, state, full=full, context=context)
    fingerprint = config.fingerprint()
    delivery_id = f"d_{secrets.token_hex(8)}"
    folder = spool / delivery_id
    with snapshot_connection(store.engine) as connection, connection.begin():
        plan = Plan(
            delivery_id, kind, since, current_cursor(connection), context.clock(), fingerprint
        )
        unchanged_store = (
            state is not None
            and state.cursor_acknowledged == plan.to_cursor
            and state.filter_fingerprint == fingerprint
        )
        if (kind == "delta" and plan.to_cursor == since) or (
            publisher.mode == "snapshot" and unchanged_store and not full
        ):
            return plan, Written(nothing="up-to-date")
        folder.mkdir(parents=True, exist_ok=True)
        try:
            written = publisher.write(connection, plan, folder)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
    if written.nothing is not None:
        shutil.rmtree(folder, ignore_errors=True)
    return plan, written
