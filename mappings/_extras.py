"""Reading LHEO ``extras``: the free key/value blocks regions use for what LHEO lacks.

``<extras info="specificites"><extra info="programme-financeur">BOP 104</extra></extras>``
is read as one `Extra` whose names and value are normalised, so rules compare them
whatever the case, accents or punctuation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lxml import etree

from mappings._cleaning import normalise
from mappings._issues import local_name


@dataclass(frozen=True, slots=True)
class Extra:
    """One ``extra`` value with its own ``info`` and that of its ``extras`` block."""

    block: str
    info: str
    value: str

    def named(self, info: str) -> bool:
        """True when ``info`` (normalised) names this extra or its block."""
        return info in (self.info, self.block)

    def says(self, phrases: Iterable[str]) -> bool:
        """True when the value contains one of the (normalised) phrases as whole words."""
        return any(contains_phrase(self.value, phrase) for phrase in phrases)


def contains_phrase(text: str, phrase: str) -> bool:
    """Whole-word containment of normalised texts: ``asl`` is in ``atelier asl``, not ``basle``."""
    return bool(phrase) and f" {phrase} " in f" {text} "


def collect_extras(root: etree._Element) -> tuple[Extra, ...]:
    """Every extra anywhere under ``root`` (a formation or an action), in document order."""
    found: list[Extra] = []
    for block in root.iter("{*}extras"):
        block_info = normalise(block.get("info", ""))
        children = [child for child in block if local_name(child) == "extra"]
        for child in children:
            found.append(Extra(block_info, normalise(child.get("info", "")), _value(child)))
        if not children and (block.text or "").strip():
            found.append(Extra(block_info, block_info, _value(block)))
    return tuple(found)


def has_extras_block(root: etree._Element, info: str) -> bool:
    """True when an ``extras`` block named ``info`` appears under ``root``."""
    wanted = normalise(info)
    return any(normalise(block.get("info", "")) == wanted for block in root.iter("{*}extras"))


def _value(element: etree._Element) -> str:
    return normalise("".join(element.itertext()))
