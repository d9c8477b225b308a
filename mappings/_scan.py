"""What a formation holds beyond the paths the reader walks, found in one pass.

Every coded element is translated, wherever it is (so an unknown code is reported), but
not inside ``extras``; the conventionnement rules test the codes and extras anywhere
under an action. Asking lxml for each of these apart walks the formation again and
again, so `Scanner.scan` asks it once for all their tags, in document order, and places
each element found: inside an ``extras`` block or not, and under which action.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from hub.lheo.schema import NS_23

Actions = dict[etree._Element, int]
"""The formation's actions (as the reader walked them) to their position."""


@dataclass(slots=True)
class Scan:
    """The coded elements and ``extras`` blocks of one formation, in document order."""

    coded: list[tuple[etree._Element, str]] = field(default_factory=list)
    """The coded elements outside ``extras``, each with its element name."""
    blocks: list[etree._Element] = field(default_factory=list)
    """Every ``extras`` block, of any namespace, nested ones included."""
    action_blocks: dict[int, list[etree._Element]] = field(default_factory=dict)
    """Position of an action to the ``extras`` blocks under it."""
    action_codes: dict[int, dict[str, list[etree._Element]]] = field(default_factory=dict)
    """Position of an action to the elements under it (``extras`` included) of each name
    the conventionnement rules test."""


class Scanner:
    """Finds the elements of `Scan` in a formation (one per set of tables)."""

    def __init__(self, coded: tuple[str, ...], tested: tuple[str, ...]) -> None:
        """``coded``: names of the elements to translate; ``tested``: names of the
        elements whose codes the conventionnement rules test under each action."""
        names = dict.fromkeys((*coded, *tested))
        # lxml parses each tag asked for at every call: short tags of any namespace
        # cost less to parse and to match, and the few found in another namespace
        # are left out below.
        self._tags = tuple(f"{{*}}{name}" for name in ("extras", *names))
        self._kinds: dict[object, tuple[str, bool, bool]] = {
            f"{{{NS_23}}}{name}": (name, name in coded, name in tested) for name in names
        }
        """Qualified tag to name, whether coded, whether tested."""

    def scan(self, formation: etree._Element, actions: Actions) -> Scan:
        """What ``formation`` holds, in document order (``actions``: its actions)."""
        found = Scan()
        kinds = self._kinds
        coded_elements = found.coded
        blocks: set[etree._Element] = set()
        in_block = False
        """Whether the last block or coded element found is a block or inside one: an
        element can only be inside a block when it is (a block's subtree is one piece
        of the document order)."""
        for element in formation.iter(*self._tags):
            tag: str = element.tag  # type: ignore[assignment]  # iter gives elements only
            kind = kinds.get(tag)
            if kind is None:
                if not (tag.endswith("}extras") or tag == "extras"):
                    continue  # a coded name in another namespace
                in_block = True
                _add_block(found, blocks, element, formation, actions)
                continue
            name, coded, tested = kind
            if name == "extras":  # a coded element named so, in a block of its own
                in_block = True
                _add_block(found, blocks, element, formation, actions)
            elif in_block:
                in_block = _inside(element, formation, blocks)
            if tested:
                action = _action(element, formation, actions)
                if action is not None:
                    by_name = found.action_codes.setdefault(action, {})
                    by_name.setdefault(name, []).append(element)
            if coded and not in_block:
                coded_elements.append((element, name))
        return found


def _add_block(
    found: Scan,
    blocks: set[etree._Element],
    block: etree._Element,
    formation: etree._Element,
    actions: Actions,
) -> None:
    """Record ``block``, and under the action holding it, if any."""
    found.blocks.append(block)
    blocks.add(block)
    action = _action(block, formation, actions)
    if action is not None:
        found.action_blocks.setdefault(action, []).append(block)


def _inside(
    element: etree._Element, formation: etree._Element, blocks: set[etree._Element]
) -> bool:
    """Whether one of ``blocks`` holds ``element`` (below ``formation``)."""
    node = element.getparent()
    while node is not None and node is not formation:
        if node in blocks:
            return True
        node = node.getparent()
    return False


def _action(element: etree._Element, formation: etree._Element, actions: Actions) -> int | None:
    """The position of the action holding ``element``, None when no action does."""
    node = element.getparent()
    while node is not None and node is not formation:
        position = actions.get(node)
        if position is not None:
            return position
        node = node.getparent()
    return None
