"""Finding the elements harmonising reads, each element walked once for all its paths.

``find`` and ``iterfind`` parse and match their path on every call, and an element is
walked again for every path. Harmonising reads dozens of paths per formation, so each
kind of element (formation, action, session, adresse) declares the paths it reads once,
and `ChildPaths.find` walks its children once, following only the declared steps.
"""

from __future__ import annotations

from typing import NamedTuple, TypeAlias

from lxml import etree

from hub.lheo.schema import NS_23

Found = dict[str, list[etree._Element]]
"""Path (``periode/debut``) to its elements, in document order as ``iterfind`` gives them.
A path without any element is absent: read it with `every`, `first` or `first_text`."""

_Steps: TypeAlias = "dict[object, tuple[str | None, int, _Steps | None]]"
"""Qualified tag of a child to the path ending with it (and its position among the
paths), and the steps continuing below it. Keyed by object: it is looked up with the
tag of any child, comments included."""


class ChildPaths:
    """Child paths such as ``periode/debut`` (steps of LHEO 2.3 element names)."""

    def __init__(self, *paths: str) -> None:
        self.paths = paths
        self._steps: _Steps = {}
        for position, path in enumerate(paths):
            _add(self._steps, path, position, path.split("/"))

    def find(self, element: etree._Element) -> Found:
        """Every element at each path under ``element``, as ``iterfind`` would list them."""
        found: Found = {}
        _walk(element, self._steps, found)
        return found

    def first_texts(self, element: etree._Element) -> tuple[str | None, ...]:
        """The text of the first element at each path (None when there is none), in the
        order of the paths: what an address is read from."""
        texts: list[str | None] = [None] * len(self.paths)
        _walk_texts(element, self._steps, texts, [False] * len(self.paths))
        return tuple(texts)


def _add(steps: _Steps, path: str, position: int, names: list[str]) -> None:
    tag = f"{{{NS_23}}}{names[0]}"
    ends, at, deeper = steps.get(tag, (None, -1, None))
    if len(names) == 1:
        ends, at = path, position
    else:
        deeper = {} if deeper is None else deeper
        _add(deeper, path, position, names[1:])
    steps[tag] = (ends, at, deeper)


def _walk(element: etree._Element, steps: _Steps, found: Found) -> None:
    # Children come in document order and each is searched before its next sibling,
    # so every list is in document order too. Iterating over all the children is
    # cheaper than lxml's tag filter, which is set up anew at every call.
    for child in element:
        step = steps.get(child.tag)
        if step is None:
            continue
        path, _, deeper = step
        if path is not None:
            elements = found.get(path)
            if elements is None:
                found[path] = [child]
            else:
                elements.append(child)
        if deeper is not None:
            _walk(child, deeper, found)


def _walk_texts(
    element: etree._Element, steps: _Steps, texts: list[str | None], seen: list[bool]
) -> None:
    """`_walk` keeping only the text of the first element at each path."""
    for child in element:
        step = steps.get(child.tag)
        if step is None:
            continue
        _, position, deeper = step
        if position >= 0 and not seen[position]:
            seen[position] = True
            texts[position] = child.text
        if deeper is not None:
            _walk_texts(child, deeper, texts, seen)


def every(found: Found, path: str) -> list[etree._Element]:
    """The elements at ``path``, as ``findall`` gives them (do not modify the list)."""
    return found.get(path, _NONE)


def first(found: Found, path: str) -> etree._Element | None:
    """The first element at ``path``, as ``find`` gives it."""
    elements = found.get(path)
    return None if elements is None else elements[0]


def first_text(found: Found, path: str) -> str | None:
    """The text of the first element at ``path`` (None when there is none)."""
    elements = found.get(path)
    return None if elements is None else elements[0].text


_NONE: list[etree._Element] = []

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
    for action in every(found, "action"):
        action_found = ACTION.find(action)
        sessions = [Walked(s, SESSION.find(s), []) for s in every(action_found, "session")]
        actions.append(Walked(action, action_found, sessions))
    return Walked(formation, found, actions)
