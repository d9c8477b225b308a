"""The map stage: harmonise each stored formation with the checked tables of ``mappings/``.

The tables are loaded and checked once per process (a broken table stops start-up with
its file and line). Harmonised facts are stored as JSON beside the source's own LHEO,
so each record keeps both the source's codes and the national ones; the issues met on
the way are stored per formation, so the mapping report always describes the live offer.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from lxml import etree

from mappings import Harmoniser, MappingIssue, load_tables, to_json


@cache
def harmoniser() -> Harmoniser:
    """The process-wide harmoniser (tables loaded and checked on first use)."""
    return Harmoniser(load_tables())


def harmonise(
    formation: etree._Element, *, source: str, region: str | None
) -> tuple[dict[str, Any], list[MappingIssue]]:
    """Harmonised facts (without their issues) as JSON, and the issues apart."""
    harmonised = harmoniser().harmonise(formation, source=source, region=region)
    facts = to_json(harmonised)
    facts.pop("issues", None)
    return facts, list(harmonised.issues)


def language_kind(facts: dict[str, Any]) -> str | None:
    language = facts.get("language")
    return str(language["kind"]) if language else None
