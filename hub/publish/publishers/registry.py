"""Find publishers by name through the ``hub.publishers`` entry point group.

A package adds a publisher with one line of its ``pyproject.toml``::

    [project.entry-points."hub.publishers"]
    intercariforef = "hub.publish.publishers.intercariforef:IntercariforefPublisher"

so the hub never lists publishers in code, and a partner's package can live outside it.
"""

from __future__ import annotations

from hub.plugins import registered_class, registered_names
from hub.publish.publishers.base import PublishContext, Publisher
from hub.publish.publishers.config import PublisherConfig

GROUP = "hub.publishers"

__all__ = ["GROUP", "create_publisher", "known_publishers", "publisher_class"]


def known_publishers() -> list[str]:
    """Names of every installed publisher, sorted."""
    return registered_names(GROUP)


def publisher_class(name: str, *, config: PublisherConfig | None = None) -> type[Publisher]:
    """The class registered as ``name``; a ConfigError listing the known ones otherwise."""
    where = f"{config.where}: publisher: " if config else ""
    return registered_class(GROUP, name, Publisher, kind="publisher", where=where)


def create_publisher(config: PublisherConfig, context: PublishContext) -> Publisher:
    """The publisher ``config`` names, built and checked (options, format, destination)."""
    return publisher_class(config.publisher, config=config)(config, context)
