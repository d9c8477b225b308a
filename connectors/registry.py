"""Find connectors by name through the ``hub.connectors`` entry point group.

A package adds a connector with one line of its ``pyproject.toml``::

    [project.entry-points."hub.connectors"]
    dokelio = "connectors.dokelio:DokelioConnector"

so the hub never lists connectors in code, and a regional package can live outside it.
"""

from __future__ import annotations

from connectors.base import Connector
from hub.plugins import registered_class, registered_names
from hub.settings import Settings, SourceSettings

GROUP = "hub.connectors"

__all__ = ["GROUP", "check_sources", "connector_class", "known_connectors"]


def known_connectors() -> list[str]:
    """Names of every installed connector, sorted."""
    return registered_names(GROUP)


def connector_class(name: str, *, source: SourceSettings | None = None) -> type[Connector]:
    """The class registered as ``name``; a ConfigError listing the known ones otherwise."""
    where = f"{source.file or source.name}: connector: " if source else ""
    # Connector is abstract: mypy forbids passing it as type[T], yet issubclass needs it.
    return registered_class(
        GROUP,
        name,
        Connector,  # type: ignore[type-abstract]
        kind="connector",
        where=where,
    )


def check_sources(settings: Settings) -> None:
    """Check, at start-up, that every enabled source names an installed connector."""
    for source in settings.sources.values():
        if source.enabled:
            connector_class(source.connector, source=source)
