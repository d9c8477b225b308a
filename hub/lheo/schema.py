"""The LHEO versions the hub reads, and their packaged official XSDs."""

from __future__ import annotations

import threading
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
def _xsd_bytes(version: Version) -> bytes:
    return resources.files("hub.lheo").joinpath(f"xsd/lheo-{version}.xsd").read_bytes()


_compiled = threading.local()


def xml_schema(version: Version) -> etree.XMLSchema:
    """The official XSD of ``version``, compiled once per thread (libxml2, for the fast path).

    An ``XMLSchema`` keeps the errors of its last ``validate()`` in one ``error_log`` that
    every caller shares: threads validating at once (the scheduler syncs several sources
    in parallel) would clear or mix each other's errors, and an invalid formation would
    read as valid. One schema per thread keeps each verdict its own; compiling costs
    about 10 ms, so it is done once per thread, not per call.
    """
    schemas: dict[Version, etree.XMLSchema] | None = getattr(_compiled, "schemas", None)
    if schemas is None:
        schemas = _compiled.schemas = {}
    schema = schemas.get(version)
    if schema is None:
        schema = etree.XMLSchema(etree.fromstring(_xsd_bytes(version), _secure_parser()))
        schemas[version] = schema
    return schema


def xsd_path(version: Version) -> str:
    """Filesystem path of the packaged XSD (for tools that want a file)."""
    return str(resources.files("hub.lheo").joinpath(f"xsd/lheo-{version}.xsd"))
