"""What one formation of a flow becomes: a record, valid with its canonical form and hash, or
rejected with its errors.

Both ways of reading a flow end here: the streaming reader with the element libxml2 parsed
in its document, the fast path with the element parsed alone (:func:`read_raw`, which worker
processes run with only the picklable :class:`~hub.lheo.chunk.FlowContext`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

from lxml import etree

from hub.errors import RecordError
from hub.lheo.canonical import canonical_formation, canonical_fragment
from hub.lheo.chunk import FlowContext, RawFormation, parse_alone
from hub.lheo.dialect import Flag
from hub.lheo.paths import element_path, node_path, readable_message
from hub.lheo.schema import Version, xml_schema


@dataclass(slots=True)
class FormationRecord:
    """One formation read from a flow: either valid, with its canonical 2.3 form, or rejected."""

    numero: str | None
    datemaj: str | None
    line: int
    errors: list[RecordError] = field(default_factory=list)
    element: etree._Element | None = None
    fragment: bytes = b""
    content_hash: str = ""
    provenance: dict[str, str] = field(default_factory=dict)
    raw_hash: str = ""
    """Hash of the formation's bytes as sent (fast path only): a cheap "unchanged" check."""
    flags: list[Flag] = field(default_factory=list)
    """What the source's dialect repaired and marked in it (it was kept)."""
    file: str | None = None
    """The file of its flow it was read from."""

    @property
    def valid(self) -> bool:
        return not self.errors


Fix = Callable[[etree._Element], list[Flag]]
"""A dialect's hook: repair one formation in place, in its own namespace, before validation."""


def read_raw(
    context: FlowContext, raw: RawFormation, *, validate: bool = True, fix: Fix | None = None
) -> FormationRecord:
    """A formation from :meth:`LheoReader.split`, read exactly as the streaming reader would.

    A module function so that worker processes can run it with only the picklable context.
    Raises :class:`SplitMismatch` when the bytes cut are not one formation alone.
    """
    element = parse_alone(context, raw)
    version = cast(Version, context.version)
    offset = raw.line - 1
    record = read_formation(
        element, version, context.namespace, validate=validate, offset=offset, fix=fix
    )
    record.raw_hash = raw.raw_hash
    return record


def read_formation(
    element: etree._Element,
    version: Version,
    namespace: str,
    *,
    validate: bool = True,
    offset: int = 0,
    fix: Fix | None = None,
) -> FormationRecord:
    """Validate one parsed formation and give its canonical form and hash, or its errors.

    ``offset`` is added to line numbers, for an element parsed apart from its document.
    ``fix``, the source's dialect hook, repairs it first (its flags are kept on the record).
    """
    record = FormationRecord(
        numero=element.get("numero"),
        datemaj=element.get("datemaj"),
        line=(element.sourceline or 0) + offset,
    )
    if fix is not None:
        record.flags = fix(element)
        record.numero = element.get("numero")
    if validate:
        record.errors = _validate(element, version, record.numero, offset)
    if record.numero is None or not record.numero.strip():
        record.errors.append(
            RecordError(
                None,
                record.line,
                "formation",
                "the formation has no numero attribute; the hub identifies offers by numero",
            )
        )
    if record.errors:
        return record
    canonical = canonical_formation(element, namespace, record.provenance)
    record.element, record.fragment = canonical_fragment(canonical)
    record.content_hash = hashlib.sha256(record.fragment).hexdigest()
    return record


def _validate(
    element: etree._Element, version: Version, numero: str | None, offset: int
) -> list[RecordError]:
    schema = xml_schema(version)
    if schema.validate(element):
        return []
    return [
        RecordError(
            numero,
            error.line + offset if error.line else error.line,
            _error_path(element, error.path),
            readable_message(error.message),
        )
        for error in schema.error_log
    ]


def _error_path(formation: etree._Element, libxml_path: str | None) -> str:
    """The named path of an XSD error, whatever prefixes the flow writes names with.

    libxml2 writes an element in a default namespace as ``*[n]`` and a prefixed one as
    ``prefix:name[n]``, from the formation; :func:`element_path` reads the former.
    """
    if not libxml_path or ":" not in libxml_path:
        return element_path(formation, libxml_path)
    step_end = libxml_path.find("/", 1)
    relative = "." + (libxml_path[step_end:] if step_end > 0 else "")
    namespaces = {
        prefix: uri for node in formation.iter() for prefix, uri in node.nsmap.items() if prefix
    }
    try:
        found = formation.xpath(relative, namespaces=namespaces)
    except etree.XPathError:
        return node_path(formation)
    if isinstance(found, list) and found and isinstance(found[0], etree._Element):
        return node_path(found[0], formation)
    return node_path(formation)
