"""The canonical form of a formation: what its content hash is computed on.

The formation in the LHEO 2.3 namespace, without the export's own noise (timestamps) nor
the hub's provenance extras, so the same offer hashes the same whatever the version, the
layout or the route it came by. What only the writing of the XML decides is no content
either: comments, processing instructions, namespace prefixes and declarations the
formation does not use (the parsers drop the first two already; CDATA sections, character
and entity references are plain text once parsed).
"""

from __future__ import annotations

import re

from lxml import etree

from hub.lheo.schema import NS_23, PROVENANCE_INFO

_STRIPPED_ATTRIBUTES = ("horodatage-export",)
_DECLARATION = re.compile(rb' xmlns(?::([^=\s]+))?="[^"]*"')


def canonical_formation(
    element: etree._Element, namespace: str, provenance: dict[str, str] | None = None
) -> etree._Element:
    """The formation in the 2.3 namespace without export noise, detached from its document.

    Hub provenance extras (written by the national feed) are removed and returned in
    ``provenance``, so that re-reading the feed gives back the same content hash.
    """
    for extras in element.findall(f"{{{namespace}}}extras"):
        if extras.get("info") == PROVENANCE_INFO:
            if provenance is not None:
                for extra in extras:
                    provenance[str(extra.get("info"))] = extra.text or ""
            element.remove(extras)
    if element.xpath("boolean(descendant-or-self::*[@horodatage-export])"):
        for node in element.iter():
            for name in _STRIPPED_ATTRIBUTES:
                node.attrib.pop(name, None)
    if namespace == NS_23 and element.prefix is None:
        element.tail = None
        return element
    return _renamed(element, NS_23)


def _renamed(element: etree._Element, namespace: str) -> etree._Element:
    """Move a formation into ``namespace`` as the default namespace (2.2 → 2.3 upgrade)."""
    local = etree.QName(element).localname
    renamed = etree.Element(f"{{{namespace}}}{local}", nsmap={None: namespace})
    for name, value in element.attrib.items():
        renamed.set(name, value)
    renamed.text = element.text
    for child in list(element):
        renamed.append(child)
    for node in renamed.iter(tag=etree.Element):
        node.tag = f"{{{namespace}}}{etree.QName(node).localname}"
    etree.cleanup_namespaces(renamed)
    return renamed


def canonical_fragment(element: etree._Element) -> tuple[etree._Element, bytes]:
    """The canonical element and its bytes, with the LHEO namespace declared once, by default.

    A formation serialised inside its document declares every namespace its ancestors do
    (``xmlns:xsi`` on ``<lheo>``, a prefix the flow uses elsewhere); those it does not use
    are dropped. A formation that writes LHEO with a prefix, or declares it again inside, is
    rebuilt in the default namespace (slower, and rare); one that holds elements of another
    namespace (in an ``<extra>``) keeps its declarations as they are.
    """
    fragment = etree.tostring(element, encoding="UTF-8", xml_declaration=False)
    if _has_markup(fragment):  # the parsers drop them: this is for trees built elsewhere
        etree.strip_tags(element, etree.Comment, etree.ProcessingInstruction)
        fragment = etree.tostring(element, encoding="UTF-8", xml_declaration=False)
    if fragment.count(b"xmlns") == 1:
        return element, fragment
    top = fragment.find(b">")  # ">" in attribute values is written &gt;
    declared = list(_DECLARATION.finditer(fragment, 0, top))
    if fragment.count(b"xmlns") == len(declared) and not any(
        _uses(fragment, found.group(1)) for found in declared if found.group(1)
    ):
        for found in reversed(declared):
            if found.group(1):
                fragment = fragment[: found.start()] + fragment[found.end() :]
        return element, fragment
    if all(etree.QName(node).namespace == NS_23 for node in element.iter(etree.Element)):
        renamed = _renamed(element, NS_23)
        return renamed, etree.tostring(renamed, encoding="UTF-8", xml_declaration=False)
    return element, fragment


def _has_markup(fragment: bytes) -> bool:
    """Whether ``fragment`` holds a comment or a PI (``<`` is escaped in text and values).

    Looks for the rare ``!`` and ``?`` bytes, then at the byte before each.
    """
    for byte in (b"!", b"?"):
        hit = fragment.find(byte, 1)
        while hit >= 0:
            if fragment[hit - 1] == 0x3C:  # "<"
                return True
            hit = fragment.find(byte, hit + 1)
    return False


def _uses(fragment: bytes, prefix: bytes) -> bool:
    """Whether an element or an attribute of ``fragment`` may be written with ``prefix``."""
    return b"<" + prefix + b":" in fragment or b" " + prefix + b":" in fragment
