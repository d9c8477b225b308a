"""The LHEO versions the hub reads, and their packaged official XSDs."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Literal

from lxml import etree

Version = Literal["2.2", "2.3"]

NS_22 = "http://www.lheo.org/2.2"
NS_23 = "http://lheo.gouv.fr/2.3"
NAMESPACES: dict[str, Version] = {NS_22: "2.2", NS_23: "2.3"}
NAMESPACE_OF: dict[Version, str] = {"2.2": NS_22, "2.3": NS_23}

# The root-level extras through which a delta names the formations it deletes, and
# the formation-level extras through which the national feed states provenance.
DELETIONS_INFO = "suppressions"
PROVENANCE_INFO = "hub-provenance"


def _secure_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


@cache
def xml_schema(version: Version) -> etree.XMLSchema:
    """The official XSD of ``version``, compiled once (libxml2, for the fast path)."""
    data = resources.files("hub.lheo").joinpath(f"xsd/lheo-{version}.xsd").read_bytes()
    return etree.XMLSchema(etree.fromstring(data, _secure_parser()))


def xsd_path(version: Version) -> str:
    """Filesystem path of the packaged XSD (for tools that want a file)."""
    return str(resources.files("hub.lheo").joinpath(f"xsd/lheo-{version}.xsd"))
