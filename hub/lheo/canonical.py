"""The canonical form of a formation: what its content hash is computed on.

The formation in the LHEO 2.3 namespace, without the export's own noise (timestamps) nor
the hub's provenance extras, so the same offer hashes the same whatever the version, the
layout or the route it came by.
"""

from __future__ import annotations

from lxml import etree

from hub.lheo.schema import NS_23, PROVENANCE_INFO

_STRIPPED_ATTRIBUTES = ("horodatage-export",)


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
