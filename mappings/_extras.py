"""Reading LHEO ``extras``: the free key/value blocks regions use for what LHEO lacks.

``<extras info="specificites"><extra info="programme-financeur">BOP 104</extra></extras>``
is read as one `Extra` whose names and value are normalised, so rules compare them
whatever the case, accents or punctuation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from lxml import etree

from mappings._cleaning import normalise


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


class Block(NamedTuple):
    """One ``extras`` block: its ``info`` (normalised) and the extras a rule may name."""

    info: str
    extras: tuple[Extra, ...]


def read_block(block: etree._Element, names: frozenset[str]) -> Block:
    """The extras of one ``extras`` block (each ``extra``, or the block's own text) that
    ``names`` (normalised) may name: the others can match no rule, so their values are
    not read (most blocks carry what the hub does not use)."""
    block_info = normalise(block.get("info", ""))
    found = []
    has_extra = False
    for child in block:
        tag = child.tag  # an ``extra`` of any namespace; comments have no str tag
        if tag != "extra" and not (isinstance(tag, str) and tag.endswith("}extra")):
            continue
        has_extra = True
        info = normalise(child.get("info", ""))
        if info in names or block_info in names:
            found.append(Extra(block_info, info, _value(child)))
    if not has_extra and block_info in names and (block.text or "").strip():
        found.append(Extra(block_info, block_info, _value(block)))
    return Block(block_info, tuple(found))


def has_extras_block(blocks: Iterable[Block], info: str) -> bool:
    """True when one of ``blocks`` is named ``info``."""
    wanted = normalise(info)
    return any(block.info == wanted for block in blocks)


def _value(element: etree._Element) -> str:
    # Without children, the text is all there is (and itertext costs more to set up).
    text = element.text or "" if len(element) == 0 else "".join(element.itertext())
    return normalise(text)
