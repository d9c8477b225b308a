"""Failed deliveries: retried with backoff, resent exactly, never skipped, never doubled."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

from lheo_factory import formation
from publishing import FAST, Hub, LiveReceiver, apply_drop, intercariforef, partner
from sqlalchemy import select

from hub.publish.publishers import PublisherFilter, publisher_status, run_publishers
from hub.publish.publishers.files import spool_lock
from hub.publish.publishers.ledger import pending_delivery
from hub.store.tables import ATTEMPTS, DELIVERIES


def statuses(hub: Hub) -> dict[str, str]:
    with hub.store.engine.connect() as connection:
        return dict(connection.execute(select(DELIVERIES.c.id, DELIVERIES.c.status)).all())


def test_a_partner_unavailable_for_a_while_is_retried_with_backoff_within_the_run(
    hub: Hub, receiver: LiveReceiver
) -> None:
    hub.load([formation("F1")])
    receiver.fail("unavailable", 2)
    result = hub.run(intercariforef(receiver))
    assert (result.outcome, result.retries) == ("acknowledged", 2)
    assert receiver.posts == 3
    assert hub.sleeps == [0.5, 1.0]  # exponential backoff from [fetch], never really slept
    receiver.fail("throttled")
    hub.load([formation("F2")])
    assert hub.run(intercariforef(receiver)).outcome == "acknowledged"
    assert hub.sleeps[-1] == 0.0  # the partner's Retry-After: 0 wins over the backoff


def test_a_failed_delivery_is_resent_as_is_and_the_next_delta_starts_where_it_ended(
    hub: Hub, receiver: LiveReceiver
) -> None:
    config = intercariforef(receiver)
    hub.load([formation("F1"), formation("F2")])
    receiver.fail("unavailable", 3)
    failed = hub.run(config)
    assert failed.outcome == "failed" and "503" in (failed.error or "")
    pending = pending_delivery(hub.store.engine, config.name)
    assert pending is not None and pending.to_cursor == 2
    [status] = publisher_status(hub.store, {config.name: config})
    assert (status.cursor_acknowledged, status.cursor_delivered, status.lag) == (None, 2, 2)
    assert status.consecutive_failures == 1 and status.pending_delivery == pending.id

    hub.load([formation("F3")], deletions=("F1",))  # the store moves on meanwhile
    resent = hub.run(config)
    assert (resent.outcome, resent.resent, resent.delivery_id) == ("acknowledged", True, pending.id)
    assert resent.to_cursor == 2  # the same range, not the store's new cursor
    [first] = receiver.deliveries
    assert first.sha256 == pending.files[0].sha256

    nxt = hub.run(config)
    assert (nxt.kind, nxt.from_cursor, nxt.to_cursor) == ("delta", 2, 4)
    assert receiver.offer() == hub.offer()


def test_a_lost_acknowledgement_is_settled_by_resending_the_same_bytes(
    hub: Hub, receiver: LiveReceiver
) -> None:
    hub.fetch = FAST.model_copy(update={"read_timeout": 0.5, "attempts": 1})
    config = intercariforef(receiver)
    hub.load([formation("F1"), formation("F2")])
    receiver.fail("lost-ack")  # applied at the partner, the answer never comes back
    assert hub.run(config).outcome == "failed"
    receiver.release()
    [applied] = receiver.deliveries
    hub.load([formation("F2", contenu="Programme revu.")])

    resent = hub.run(config)
    assert resent.outcome == "acknowledged" and resent.delivery_id == applied.delivery
    assert len(receiver.deliveries) == 1  # answered from the first receipt, applied once
    with hub.store.engine.connect() as connection:
        ack = connection.execute(select(DELIVERIES.c.ack_id)).scalar_one()
    assert ack == applied.ack
    assert hub.run(config).kind == "delta"
    assert receiver.offer() == hub.offer()


def test_a_refused_delivery_is_not_resent_and_the_next_run_builds_it_again(
    hub: Hub, receiver: LiveReceiver
) -> None:
    config = intercariforef(receiver)
    hub.load([formation("F1")])
    receiver.fail("reject")
    refused = hub.run(config)
    assert refused.outcome == "rejected" and "rejected on request" in (refused.error or "")
    assert statuses(hub) == {refused.delivery_id: "rejected"}
    assert not (hub.root / "spool" / config.name / str(refused.delivery_id)).exists()
    again = hub.run(config)
    assert again.outcome == "acknowledged" and again.delivery_id != refused.delivery_id
    assert receiver.offer() == hub.offer()


def test_an_altered_spool_file_is_abandoned_and_what_it_may_have_delivered_is_deleted_later(
    hub: Hub, receiver: LiveReceiver
) -> None:
    hub.fetch = FAST.model_copy(update={"read_timeout": 0.5, "attempts": 1})
    config = intercariforef(receiver)
    hub.load([formation("F1")])
    assert hub.run(config).outcome == "acknowledged"
    hub.load([formation("X1")])
    receiver.fail("lost-ack")  # the partner takes X1, the hub does not know it
    assert hub.run(config).outcome == "failed"
    receiver.release()
    pending = pending_delivery(hub.store.engine, config.name)
    assert pending is not None
    pending.files[0].path.write_bytes(b"damaged")
    hub.load([], deletions=("X1",))

    rebuilt = hub.run(config)
    assert rebuilt.outcome == "acknowledged" and rebuilt.delivery_id != pending.id
    assert statuses(hub)[pending.id] == "abandoned"
    assert rebuilt.deletions == 1  # X1 counted as held once abandoned: its deletion is sent
    assert receiver.offer() == hub.offer() == {("idf", "F1"): hub.offer()[("idf", "F1")]}


def outcome_of(hub: Hub, name: str) -> str | None:
    return next((s.last_outcome for s in publisher_status(hub.store) if s.name == name), None)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_partner_that_is_down_never_blocks_the_others(
    hub: Hub, receiver: LiveReceiver, tmp_path: Path
) -> None:
    hub.load([formation("F1"), formation("F2")])
    held = intercariforef(receiver, name="held")
    ghost = partner("ghost", "intercariforef", f"http://127.0.0.1:{_free_port()}/lheo/offres")
    drop = partner("drop", "filedrop", tmp_path / "drop", filter=PublisherFilter())
    receiver.fail("timeout", 3)  # holds the first attempt until released, then 504s

    results: list = []
    runner = threading.Thread(
        target=lambda: results.extend(run_publishers(hub.store, [held, ghost, drop], hub.context()))
    )
    runner.start()
    deadline = time.monotonic() + 20
    while not (receiver.in_flight == 1 and outcome_of(hub, "drop") == "acknowledged"):
        assert time.monotonic() < deadline, "the file drop waited for the partner that is down"
        time.sleep(0.02)
    assert apply_drop(tmp_path / "drop") == hub.offer() and receiver.in_flight == 1
    receiver.release()
    runner.join(timeout=20)

    outcomes = {result.publisher: result.outcome for result in results}
    assert outcomes == {"held": "failed", "ghost": "failed", "drop": "acknowledged"}
    with hub.store.engine.connect() as connection:
        recorded = dict(connection.execute(select(ATTEMPTS.c.publisher, ATTEMPTS.c.outcome)).all())
    assert recorded == outcomes


def test_a_partner_runs_once_at_a_time(hub: Hub, tmp_path: Path) -> None:
    hub.load([formation("F1")])
    drop = partner("drop", "filedrop", tmp_path / "drop")
    with spool_lock(hub.settings.publishing.spool_dir, "drop") as taken:  # another process
        assert taken
        assert hub.run(drop).outcome == "skipped"
    assert hub.run(drop).outcome == "acknowledged"
