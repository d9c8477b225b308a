"""Readable element paths and messages for per-record errors."""

from __future__ import annotations

import re

from lxml import etree

_CLARK = re.compile(r"\{[^}]*\}")


def readable_message(message: str) -> str:
    """libxml2's message without Clark namespaces: ``Element 'SIRET': ...``."""
    return _CLARK.sub("", message).strip()


def node_path(node: etree._Element, top: etree._Element | None = None) -> str:
    """``formation[@numero='X']/action[2]/session[1]/periode/debut``, up to ``top``."""
    steps: list[str] = []
    current: etree._Element | None = node
    while current is not None:
        local = etree.QName(current).localname
        at_top = current is top if top is not None else local == "formation"
        if at_top or current.getparent() is None:
            numero = current.get("numero")
            steps.append(f"{local}[@numero='{numero}']" if numero else local)
            break
        parent = current.getparent()
        assert parent is not None
        same = [sibling for sibling in parent if sibling.tag == current.tag]
        steps.append(f"{local}[{same.index(current) + 1}]" if len(same) > 1 else local)
        current = parent
    return "/".join(reversed(steps))


def element_path(formation: etree._Element, libxml_path: str | None) -> str:
    """Turn libxml2's positional path (``/*/*[14]/*[22]``) into a named one.

    libxml2 reports paths from the validated element, which is the formation itself.
    """
    if not libxml_path or not libxml_path.startswith("/*"):
        return node_path(formation)
    relative = "." + libxml_path[2:]
    try:
        found = formation.xpath(relative)
    except etree.XPathError:
        return node_path(formation)
    if isinstance(found, list) and found and isinstance(found[0], etree._Element):
        return node_path(found[0], formation)
    return node_path(formation)
