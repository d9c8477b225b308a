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


def extras_blocks(root: etree._Element) -> list[etree._Element]:
    """Every ``extras`` block under ``root``, of any namespace, in document order."""
    return list(root.iter("{*}extras"))


def block_extras(block: etree._Element, names: frozenset[str]) -> tuple[Extra, ...]:
    """The extras of one ``extras`` block (each ``extra``, or the block's own text) that
    ``names`` (normalised) may name: the others can match no rule, so their values are
    not read (most blocks carry what the hub does not use)."""
    block_info = normalise(block.get("info", ""))
    children = [child for child in block if local_name(child) == "extra"]
    found = []
    for child in children:
        info = normalise(child.get("info", ""))
        if info in names or block_info in names:
            found.append(Extra(block_info, info, _value(child)))
    if not children and block_info in names and (block.text or "").strip():
        found.append(Extra(block_info, block_info, _value(block)))
    return tuple(found)


def has_extras_block(blocks: Iterable[etree._Element], info: str) -> bool:
    """True when one of ``blocks`` (from `extras_blocks`) is named ``info``."""
    wanted = normalise(info)
    return any(normalise(block.get("info", "")) == wanted for block in blocks)


def _value(element: etree._Element) -> str:
    # Without children, the text is all there is (and itertext costs more to set up).
    text = element.text or "" if len(element) == 0 else "".join(element.itertext())
    return normalise(text)
