"""Finding the elements harmonising reads, each element walked once for all its paths.

``find`` and ``iterfind`` parse and match their path on every call, and an element is
walked again for every path. Harmonising reads dozens of paths per formation, so each
kind of element (formation, action, session, adresse) declares the paths it reads once,
and `ChildPaths.find` walks its children once, following only the declared steps.
"""

from __future__ import annotations

from typing import NamedTuple

from lxml import etree

from hub.lheo.schema import NS_23

Found = dict[str, list[etree._Element]]
"""Path (``periode/debut``) to its elements, in document order as ``iterfind`` gives them."""


class _Step:
    """The children to follow from one point of the paths, by qualified tag."""

    __slots__ = ("next",)

    def __init__(self) -> None:
        self.next: dict[object, tuple[str | None, _Step | None]] = {}
        """Qualified tag to the path ending with it, and the steps continuing below it.
        Keyed by object: it is looked up with the tag of any child, comments included."""

    def add(self, path: str, names: list[str]) -> None:
        tag = f"{{{NS_23}}}{names[0]}"
        ends, deeper = self.next.get(tag, (None, None))
        if len(names) == 1:
            ends = path
        else:
            deeper = deeper or _Step()
            deeper.add(path, names[1:])
        self.next[tag] = (ends, deeper)


class ChildPaths:
    """Child paths such as ``periode/debut`` (steps of LHEO 2.3 element names)."""

    def __init__(self, *paths: str) -> None:
        self.paths = paths
        self._first = _Step()
        for path in paths:
            self._first.add(path, path.split("/"))

    def find(self, element: etree._Element) -> Found:
        """Every element at each path under ``element``, as ``iterfind`` would list them."""
        found: Found = {path: [] for path in self.paths}
        _walk(element, self._first, found)
        return found


_NOWHERE: tuple[None, None] = (None, None)


def _walk(element: etree._Element, step: _Step, found: Found) -> None:
    # Children come in document order and each is searched before its next sibling,
    # so every list is in document order too. Iterating over all the children is
    # cheaper than lxml's tag filter, which is set up anew at every call.
    follow = step.next
    for child in element:
        ends, deeper = follow.get(child.tag, _NOWHERE)
        if ends is not None:
            found[ends].append(child)
        if deeper is not None:
            _walk(child, deeper, found)


def first(found: Found, path: str) -> etree._Element | None:
    """The first element at ``path``, as ``find`` gives it."""
    elements = found[path]
    return elements[0] if elements else None


def first_text(found: Found, path: str) -> str | None:
    """The text of the first element at ``path`` (None when there is none)."""
    elements = found[path]
    return elements[0].text if elements else None


SIRET_ORGANISME = "organisme-formation-responsable/SIRET-organisme-formation/SIRET"
ADRESSE_ORGANISME = "organisme-formation-responsable/coordonnees-organisme/coordonnees/adresse"
FORMATION = ChildPaths(
    "certification",
    "action",
    "intitule-formation",
    "domaine-formation/code-FORMACODE",
    "objectif-general-formation",
    "code-type-formation/code-CPF",
    "code-niveau-entree",
    "code-niveau-sortie",
    SIRET_ORGANISME,
    ADRESSE_ORGANISME,
)
ACTION = ChildPaths(
    "organisme-financeur/code-financeur",
    "lieu-de-formation/coordonnees/adresse",
    "session",
    "code-public-vise",
    "prix-total-TTC",
    "prix-horaire-TTC",
)
SESSION = ChildPaths("periode/debut", "periode/fin", "reference-certification")
INSCRIPTION = ChildPaths("adresse-inscription/adresse")
"""Read only for the sessions of an action without a place of its own."""


class Walked(NamedTuple):
    """An element, the elements at its paths, and its walked actions or sessions."""

    element: etree._Element
    found: Found
    parts: list[Walked]


def walk_formation(formation: etree._Element) -> Walked:
    """The formation, its actions and their sessions, each walked once for its paths."""
    found = FORMATION.find(formation)
    actions = []
    for action in found["action"]:
        action_found = ACTION.find(action)
        sessions = [Walked(s, SESSION.find(s), []) for s in action_found["session"]]
        actions.append(Walked(action, action_found, sessions))
    return Walked(formation, found, actions)
