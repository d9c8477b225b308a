"""The map stage: harmonise each stored formation with the checked tables of ``mappings/``.

The tables are loaded and checked once per process and directory (a broken table stops
start-up with its file and line): the packaged ``mappings/tables``, or the directory named
by the environment variable ``HUB_MAPPINGS_DIR`` (a site's own edited copy of the tables).
After editing tables, restart the hub's processes and run ``hub remap`` so records stored
before the edit are harmonised again.

Harmonised facts are stored as JSON beside the source's own LHEO, so each record keeps
both the source's codes and the national ones; the issues met on the way are stored per
formation, so the mapping report always describes the live offer.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

from mappings import Harmoniser, MappingIssue, load_tables, to_json

MAPPINGS_DIR_ENV = "HUB_MAPPINGS_DIR"


def tables_directory(tables_dir: Path | None = None) -> Path | None:
    """``tables_dir``, else ``$HUB_MAPPINGS_DIR``, else None (the packaged tables)."""
    if tables_dir is not None:
        return Path(tables_dir)
    configured = os.environ.get(MAPPINGS_DIR_ENV)
    return Path(configured) if configured else None


def harmoniser(tables_dir: Path | None = None) -> Harmoniser:
    """The process-wide harmoniser of ``tables_directory(tables_dir)``, loaded on first use."""
    return _harmoniser_at(tables_directory(tables_dir))


@cache
def _harmoniser_at(directory: Path | None) -> Harmoniser:
    return load_harmoniser(directory)


def load_harmoniser(tables_dir: Path | None = None) -> Harmoniser:
    """A harmoniser of the tables as they are on disk now (never cached): for the commands
    that must see an edit at once, ``hub remap`` and ``hub mapping explain``."""
    return Harmoniser(load_tables(tables_directory(tables_dir)))


def harmonise(
    formation: etree._Element,
    *,
    source: str,
    region: str | None,
    using: Harmoniser | None = None,
) -> tuple[dict[str, Any], list[MappingIssue]]:
    """Harmonised facts (without their issues) as JSON, and the issues apart.

    ``using`` is the harmoniser to apply (``hub remap`` passes freshly loaded tables);
    by default the process-wide one.
    """
    harmonised = (using or harmoniser()).harmonise(formation, source=source, region=region)
    facts = to_json(harmonised)
    facts.pop("issues", None)
    return facts, list(harmonised.issues)


def language_kind(facts: dict[str, Any]) -> str | None:
    language = facts.get("language")
    return str(language["kind"]) if language else None
