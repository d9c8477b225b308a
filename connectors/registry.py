"""Find connectors by name through the ``hub.connectors`` entry point group.

A package adds a connector with one line of its ``pyproject.toml``::

    [project.entry-points."hub.connectors"]
    dokelio = "connectors.dokelio:DokelioConnector"

so the hub never lists connectors in code, and a regional package can live outside it.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from connectors.base import Connector
from hub.errors import ConfigError
from hub.settings import Settings, SourceSettings

GROUP = "hub.connectors"

__all__ = ["GROUP", "check_sources", "connector_class", "known_connectors", "load_object"]


def known_connectors() -> list[str]:
    """Names of every installed connector, sorted."""
    return sorted({entry.name for entry in entry_points(group=GROUP)})


def connector_class(name: str, *, source: SourceSettings | None = None) -> type[Connector]:
    """The class registered as ``name``; a ConfigError listing the known ones otherwise."""
    where = f"{source.file or source.name}: connector: " if source else ""
    matches = [entry for entry in entry_points(group=GROUP) if entry.name == name]
    if not matches:
        known = ", ".join(known_connectors()) or "none installed"
        raise ConfigError(
            f"{where}unknown connector {name!r}; known connectors: {known}",
            hint="fix the connector name, or install the package that provides it "
            "(pip install -e . after adding its entry point)",
        )
    loaded = matches[0].load()
    if not (isinstance(loaded, type) and issubclass(loaded, Connector)):
        raise ConfigError(f"{where}entry point {name!r} is not a Connector subclass: {loaded!r}")
    return loaded


def check_sources(settings: Settings) -> None:
    """Check, at start-up, that every enabled source names an installed connector."""
    for source in settings.sources.values():
        if source.enabled:
            connector_class(source.connector, source=source)


def load_object(reference: str) -> object:
    """Import ``"package.module:Name"`` (a connector's ``simulator``, say)."""
    module, _, attribute = reference.partition(":")
    try:
        return getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"cannot import {reference!r}: {exc}") from exc
