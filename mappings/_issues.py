"""Collecting the issues of one formation, and naming where in it each one was found."""

from __future__ import annotations

from typing import TypeAlias

from lxml import etree

from mappings._model import IssueKind, MappingIssue


class At:
    """Where a value is: the path of ``element`` plus ``suffix`` (``/periode/debut``).

    The path is only worked out when an issue is logged there. Most values are fine,
    and naming an element's place costs more than checking its value.
    """

    __slots__ = ("element", "suffix")

    def __init__(self, element: etree._Element, suffix: str = "") -> None:
        self.element = element
        self.suffix = suffix

    def __str__(self) -> str:
        return path_of(self.element) + self.suffix


Where: TypeAlias = str | At
"""A readable path, or an `At` that gives it when needed."""

Finding: TypeAlias = tuple[IssueKind, str, str]
"""An issue before it is placed: its kind, code and message."""


class IssueLog:
    """The issues met while harmonising one formation of one source, in order."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.issues: list[MappingIssue] = []

    def add(self, kind: IssueKind, path: Where, code: str, value: str, message: str) -> None:
        self.issues.append(MappingIssue(self.source, str(path), code, value, kind, message))

    def report(self, path: Where, value: str, findings: tuple[Finding, ...]) -> None:
        """Log each of ``findings`` about ``value`` at ``path``."""
        for kind, code, message in findings:
            self.add(kind, path, code, value, message)

    def unmapped(self, path: Where, code: str, value: str, message: str) -> None:
        self.add("unmapped", path, code, value, message)

    def suspicious(self, path: Where, code: str, value: str, message: str) -> None:
        self.add("suspicious", path, code, value, message)

    def cleaned(self, path: Where, code: str, value: str, message: str) -> None:
        self.add("cleaned", path, code, value, message)


def local_name(element: etree._Element) -> str:
    """The element's name without its namespace (extras may come in any namespace)."""
    tag = element.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def path_of(element: etree._Element) -> str:
    """A readable path from the formation down to ``element``.

    Elements carrying a ``numero`` are named by it (``action[AC_1]``); repeated siblings
    without one get their position (``organisme-financeur[2]``), as in XPath.
    """
    steps: list[str] = []
    node: etree._Element | None = element
    while node is not None:
        name = local_name(node)
        numero = node.get("numero")
        if numero:
            steps.append(f"{name}[{numero}]")
        else:
            steps.append(name + _position(node))
        if name == "formation":
            break
        node = node.getparent()
    return "/".join(reversed(steps))


def _position(node: etree._Element) -> str:
    parent = node.getparent()
    if parent is None:
        return ""
    same = [sibling for sibling in parent if sibling.tag == node.tag]
    return f"[{same.index(node) + 1}]" if len(same) > 1 else ""
