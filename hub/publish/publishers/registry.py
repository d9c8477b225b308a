"""Find publishers by name through the ``hub.publishers`` entry point group.

A package adds a publisher with one line of its ``pyproject.toml``::

    [project.entry-points."hub.publishers"]
    intercariforef = "hub.publish.publishers.intercariforef:IntercariforefPublisher"

so the hub never lists publishers in code, and a partner's package can live outside it.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from hub.errors import ConfigError
from hub.publish.publishers.base import PublishContext, Publisher
from hub.publish.publishers.config import PublisherConfig

GROUP = "hub.publishers"

__all__ = ["GROUP", "create_publisher", "known_publishers", "publisher_class"]


def known_publishers() -> list[str]:
    """Names of every installed publisher, sorted."""
    return sorted({entry.name for entry in entry_points(group=GROUP)})


def publisher_class(name: str, *, config: PublisherConfig | None = None) -> type[Publisher]:
    """The class registered as ``name``; a ConfigError listing the known ones otherwise."""
    where = f"{config.where}: publisher: " if config else ""
    matches = [entry for entry in entry_points(group=GROUP) if entry.name == name]
    if not matches:
        known = ", ".join(known_publishers()) or "none installed"
        raise ConfigError(
            f"{where}unknown publisher {name!r}; known publishers: {known}",
            hint="fix the publisher name, or install the package that provides it "
            "(pip install -e . after adding its entry point)",
        )
    loaded = matches[0].load()
    if not (isinstance(loaded, type) and issubclass(loaded, Publisher)):
        raise ConfigError(f"{where}entry point {name!r} is not a Publisher subclass: {loaded!r}")
    return loaded


def create_publisher(config: PublisherConfig, context: PublishContext) -> Publisher:
    """The publisher ``config`` names, built and checked (options, format, destination)."""
    return publisher_class(config.publisher, config=config)(config, context)
