"""Publishers: deliver the consolidated offer to partners, each with a ledger.

The outbound mirror of the connectors. A publisher (:class:`Publisher`, registered in the
``hub.publishers`` entry point group) writes what a partner receives and hands it over; a
partner is configured in ``config/publishers/<name>.toml`` (destination, schedule, format,
filter); the runner delivers, per partner, what changed since its last acknowledged cursor
and records everything in the ledger. Shipped: ``intercariforef`` (LHEO 2.3 over HTTP),
``filedrop`` (LHEO files and manifests in a folder), ``languagemap`` (GeoJSON) and
``opendata`` (CSV).
"""

from __future__ import annotations

from hub.publish.publishers.base import (
    Acknowledgement,
    Delivery,
    Plan,
    PublishContext,
    Publisher,
    PublisherOptions,
    Written,
)
from hub.publish.publishers.config import (
    PublisherConfig,
    PublisherFilter,
    load_publishers,
    publisher_config,
)
from hub.publish.publishers.registry import create_publisher, known_publishers, publisher_class
from hub.publish.publishers.runner import PublishResult, run_publisher, run_publishers
from hub.publish.publishers.status import PublisherStatus, publisher_status

__all__ = [
    "Acknowledgement",
    "Delivery",
    "Plan",
    "PublishContext",
    "PublishResult",
    "Publisher",
    "PublisherConfig",
    "PublisherFilter",
    "PublisherOptions",
    "PublisherStatus",
    "Written",
    "create_publisher",
    "known_publishers",
    "load_publishers",
    "publisher_class",
    "publisher_config",
    "publisher_status",
    "run_publisher",
    "run_publishers",
]
