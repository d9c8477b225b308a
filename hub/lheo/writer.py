"""Writing LHEO documents: the one place a document's head and tail are written.

Whoever writes a document (the national feed, the partner publishers, the spreadsheet
converter, the corpus generator) writes its formations between :func:`document_head` and
:func:`document_tail`, which names the formations a delta deletes in the root's
``<extras info="suppressions">``. A formation serialised alone declares LHEO's namespace as
its default: :func:`formation_in_document` drops that declaration, which the root makes, and
:func:`formation_alone` adds it back.

Two layouts, so that each writer keeps the bytes (and hashes) it always wrote: compact, the
feed's (``<lheo ...><offres>`` on one line, the tail on one line), and ``one_per_line``, each
tag of the head and tail on its own line. Both end the head with a newline, so the first
formation starts on a line of its own, and the document with one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple
from xml.sax.saxutils import escape, quoteattr

from hub.lheo.schema import DELETIONS_INFO, NAMESPACE_OF, Version


class Deletion(NamedTuple):
    """A formation a delta deletes: its numero, and the source it is from when it says so."""

    numero: str
    ref: str | None = None
    """The source, written as ``ref``: the national feed's deletions come from many."""


def xml_declaration(encoding: str = "UTF-8") -> bytes:
    """The XML declaration of a document in ``encoding``, without a line end."""
    return f'<?xml version="1.0" encoding="{encoding}"?>'.encode("ascii")


def document_head(
    version: Version = "2.3", encoding: str = "UTF-8", *, one_per_line: bool = False
) -> bytes:
    """The XML declaration, ``<lheo>`` declaring the version's namespace, and ``<offres>``.

    ``encoding`` must write markup as ASCII bytes (UTF-8, ISO-8859-1...): the head and the
    tail are written apart from the formations, which a UTF-16 document cannot be.
    """
    _check_encoding(encoding)
    between = "\n" if one_per_line else ""
    root = f'\n<lheo xmlns="{NAMESPACE_OF[version]}">{between}<offres>\n'
    return xml_declaration(encoding) + root.encode("ascii")


def document_tail(
    deletions: Iterable[str | Deletion] = (),
    *,
    encoding: str = "UTF-8",
    one_per_line: bool = False,
) -> bytes:
    """``</offres>``, the root extras naming ``deletions`` (a numero or a :class:`Deletion`
    each; none, no extras), and ``</lheo>``."""
    _check_encoding(encoding)
    between = "\n" if one_per_line else ""
    extras = [_deletion(deletion) + between for deletion in deletions]
    parts = ["</offres>", between]
    if extras:
        parts += [f'<extras info="{DELETIONS_INFO}">', between, *extras, "</extras>", between]
    parts.append("</lheo>\n")
    return "".join(parts).encode(encoding, "xmlcharrefreplace")


def formation_in_document(formation: bytes, version: Version = "2.3") -> bytes:
    """A formation serialised alone, ready to sit in a document of ``version``.

    Its start tag's declaration of LHEO's namespace as the default is dropped, since the
    root makes it; a formation that does not make it is returned as it is.
    """
    head_end = formation.index(b">")  # ">" in attribute values is written &gt;
    declaration = _own_declaration(version)
    return formation[:head_end].replace(declaration, b"", 1) + formation[head_end:]


def formation_alone(formation: bytes, version: Version = "2.3") -> bytes:
    """A formation written for a document of ``version``, declaring its namespace itself."""
    if not formation.startswith(b"<formation"):
        raise ValueError("a formation written without prefix must start with <formation")
    return b"<formation" + _own_declaration(version) + formation[len(b"<formation") :]


def _own_declaration(version: Version) -> bytes:
    return f' xmlns="{NAMESPACE_OF[version]}"'.encode("ascii")


def _deletion(deletion: str | Deletion) -> str:
    numero, ref = (deletion, None) if isinstance(deletion, str) else deletion
    source = "" if ref is None else f" ref={quoteattr(ref)}"
    return f'<extra info="numero"{source}>{escape(numero)}</extra>'


def _check_encoding(encoding: str) -> None:
    if "<\n".encode(encoding) != b"<\n":
        raise ValueError(f"LHEO documents are written in UTF-8 or ISO-8859-x, not {encoding}")
