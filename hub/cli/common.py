"""What every ``hub`` command shares: the consoles, error reporting and the common options.

Output goes through ``out`` (stdout) and ``err`` (stderr). Other modules reach them as
``common.out`` and ``common.err``, looked up when they print, so that a test can put a
console of a fixed width in their place once, here, for every command.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer
from rich.console import Console

from hub.errors import HubError
from hub.settings import Settings, load_settings
from hub.store import Store

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

P = ParamSpec("P")
R = TypeVar("R")

ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="TOML configuration (default: config/hub.toml)")
]


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


FormatOption = Annotated[
    OutputFormat, typer.Option("--format", help="table, json, or csv (; separated)")
]


def say(text: str) -> None:
    """Print ``text`` on stdout as it is: no rich markup, no highlighting."""
    out.print(text, markup=False, highlight=False)


def say_err(text: str) -> None:
    """Print ``text`` on stderr as it is: no rich markup, no highlighting."""
    err.print(text, markup=False, highlight=False)


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn the hub's errors into one line on stderr and exit status 1."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except HubError as exc:
            notes = " ".join(getattr(exc, "__notes__", []))
            say_err("error: " + str(exc) + (f" — {notes}" if notes else ""))
            raise typer.Exit(1) from exc

    return wrapper


def open_store(config: Path | None) -> tuple[Settings, Store]:
    """The settings (``config``, else the default file) and the store they name, migrated."""
    settings = load_settings(config)
    return settings, Store.open(settings)
