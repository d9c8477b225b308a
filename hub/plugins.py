"""Find classes registered under an entry point group (connectors, publishers).

A package registers one with a line of its ``pyproject.toml``, so the hub never lists
them in code and a regional or partner package can live outside it.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import TypeVar

from hub.errors import ConfigError

T = TypeVar("T")


def registered_names(group: str) -> list[str]:
    """Names of every class installed in ``group``, sorted."""
    return sorted({entry.name for entry in entry_points(group=group)})


def registered_class(
    group: str, name: str, base: type[T], *, kind: str, where: str = ""
) -> type[T]:
    """The ``base`` subclass registered as ``name``; a ConfigError listing the known ones."""
    matches = [entry for entry in entry_points(group=group) if entry.name == name]
    if not matches:
        known = ", ".join(registered_names(group)) or "none installed"
        raise ConfigError(
            f"{where}unknown {kind} {name!r}; known {kind}s: {known}",
            hint=f"fix the {kind} name, or install the package that provides it "
            "(pip install -e . after adding its entry point)",
        )
    loaded = matches[0].load()
    if not (isinstance(loaded, type) and issubclass(loaded, base)):
        raise ConfigError(
            f"{where}entry point {name!r} is not a {base.__name__} subclass: {loaded!r}"
        )
    return loaded


def load_object(reference: str) -> object:
    """Import ``"package.module:Name"`` (the demo the configuration names, say)."""
    module, _, attribute = reference.partition(":")
    try:
        return getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(
            f"cannot import {reference!r}: {exc}",
            hint="development tooling (simulators/) runs from a checkout: `make run`",
        ) from exc
