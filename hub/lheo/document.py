"""The document around a flow's formations: its root extras, and what is wrong with its shape.

LHEO puts one ``<offres>`` under ``<lheo>``, formations and extras in it, and root extras
after it (a delta names the formations it deletes in ``<extras info="suppressions">``). Both
ways of reading a flow hand a :class:`Document` what they meet outside the formations, so
their deletions and document errors are the same: the streaming reader from libxml2's tree,
the fast path from the *skeleton* (:class:`Skeleton`), the flow with each formation replaced
by a stand-in element and as many newlines as it spans, through the same safe pull parser.
"""

from __future__ import annotations

from collections import Counter

from lxml import etree

from hub.errors import RecordError, SplitMismatch
from hub.lheo.chunk import STAND_IN_TAG, FlowContext, RawFormation, formation_parser, stand_in
from hub.lheo.schema import DELETIONS_INFO

_FEED_EVERY = 32
"""Formations whose skeleton bytes are fed to its parser at once..."""
_FEED_BYTES = 1 << 20
"""...in pieces of at most this many bytes."""


class Document:
    """What a flow says around its formations; complete once the parse of the flow ends."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.offres_tag = f"{{{namespace}}}offres"
        self.extras_tag = f"{{{namespace}}}extras"
        self.deletions: list[str] = []
        """Numeros named by the root's ``<extras info="suppressions">``."""
        self.errors: list[RecordError] = []
        self.only_deletions = False
        """An ``<offres>`` without formation in a delta that deletes (see ``LheoReader``)."""
        self._formations_in: Counter[etree._Element] = Counter()

    def is_root_offres(self, element: etree._Element | None) -> bool:
        """Whether ``element`` is an ``<offres>`` child of the root: where formations are."""
        return (
            element is not None
            and element.tag == self.offres_tag
            and (parent := element.getparent()) is not None
            and parent.getparent() is None
        )

    def count_formation(self, offres: etree._Element) -> None:
        """One formation was read in ``offres`` (an ``<offres>`` without any is reported)."""
        self._formations_in[offres] += 1

    def read_root_extras(self, extras: etree._Element) -> None:
        """An ``<extras>`` child of the root: deletions when it says so, else kept unread."""
        self.errors += _extras_errors(extras, self.namespace, "lheo/extras")
        if extras.get("info") != DELETIONS_INFO:
            return
        for extra in extras.iter(f"{{{self.namespace}}}extra"):
            numero = (extra.text or "").strip()
            if numero:
                self.deletions.append(numero)

    def check(self, root: etree._Element) -> None:
        """What is left of the document once its formations and root extras were read."""
        offres_count = 0
        for child in root:
            if child.tag == self.offres_tag:
                offres_count += 1
                self._check_offres(child, second=offres_count == 2)
            elif child.tag != self.extras_tag:
                self.errors.append(_unexpected(child, self.namespace, "lheo", "offres and extras"))
        if not offres_count:
            self.errors.append(
                _document_error(root, "lheo", "lheo holds no offres; LHEO requires one")
            )

    def _check_offres(self, offres: etree._Element, *, second: bool) -> None:
        if second:
            self.errors.append(
                _document_error(
                    offres,
                    "lheo/offres",
                    "a second offres; LHEO allows one (its formations are read all the same)",
                )
            )
        if not self._formations_in[offres] and self.deletions:
            self.only_deletions = True  # the hub's delta dialect: see LheoReader
        elif not self._formations_in[offres]:
            self.errors.append(
                _document_error(
                    offres, "lheo/offres", "offres holds no formation; LHEO requires at least one"
                )
            )
        for item in offres:
            if item.tag == self.extras_tag:
                self.errors += _extras_errors(item, self.namespace, "lheo/offres/extras")
            else:
                self.errors.append(
                    _unexpected(item, self.namespace, "lheo/offres", "formation and extras")
                )


class Skeleton:
    """The fast path's view of everything but the formations, through the safe pull parser.

    It is where libxml2 checks the cut: each stand-in must come, in order, as a child of the
    root's ``<offres>``, and no formation may be met there (one the cutter missed). The root
    and ``<offres>`` must be those the formations are parsed inside (:class:`FlowContext`).
    """

    def __init__(self, document: Document, context: FlowContext) -> None:
        self.document = document
        self.formation_tag = f"{{{document.namespace}}}formation"
        self.parser = etree.XMLPullParser(
            events=("start", "end"),
            remove_blank_text=True,
            remove_comments=True,  # the formations' line placeholders among them
            remove_pis=True,
            resolve_entities="internal",  # none can be declared: DOCTYPEs are refused
            no_network=True,
            load_dtd=False,
            huge_tree=False,
        )
        parsed = etree.fromstring(context.head + context.tail, formation_parser())
        self.expected = {parsed.tag: _opening(parsed), parsed[0].tag: _opening(parsed[0])}
        self.cut = self.seen = 0
        self.pending: list[bytes] = []
        self.pending_lines = 0
        self.offres: etree._Element | None = None
        """The last ``<offres>`` a stand-in was met in, known to be the root's."""

    def feed(self, data: bytes) -> None:
        self.pending.append(data)
        self.flush()

    def stand_for(self, gap: bytes, raw: RawFormation) -> None:
        """The bytes before a formation and its stand-in, fed a few formations at a time."""
        self.pending += (gap, stand_in(self.cut, raw.newlines))
        self.pending_lines += raw.newlines
        self.cut += 1
        if not self.cut % _FEED_EVERY or self.pending_lines > _FEED_BYTES:
            self.flush()

    def flush(self) -> None:
        """Feed what is pending, in pieces libxml2 takes without ``huge_tree``."""
        data = b"".join(self.pending)
        for start in range(0, len(data), _FEED_BYTES):
            self.parser.feed(data[start : start + _FEED_BYTES])
        self.pending.clear()
        self.pending_lines = 0
        self.check()

    def close(self) -> etree._Element:
        self.flush()
        root: etree._Element = self.parser.close()
        self.check()
        if self.seen != self.cut:
            raise SplitMismatch(
                f"{self.cut} formations were cut, the parser saw {self.seen} in <offres>"
            )
        return root

    def check(self) -> None:
        document = self.document
        for event, element in self.parser.read_events():
            parent = element.getparent()
            if event == "start":
                self._started(element, parent)
            elif element.tag == STAND_IN_TAG:
                assert parent is not None
                parent.remove(element)
            elif (
                element.tag == document.extras_tag
                and parent is not None
                and parent.getparent() is None
            ):
                document.read_root_extras(element)
                parent.remove(element)

    def _started(self, element: etree._Element, parent: etree._Element | None) -> None:
        document = self.document
        if element.tag == STAND_IN_TAG:
            if parent is None or element.get("n") != str(self.seen):
                raise SplitMismatch(
                    "the formations cut and those parsed differ", line=element.sourceline
                )
            if parent is not self.offres:
                if not document.is_root_offres(parent):
                    raise SplitMismatch(
                        "a formation was cut where the parser reads no formation",
                        line=element.sourceline,
                    )
                self.offres = parent
            document.count_formation(parent)
            self.seen += 1
        elif element.tag == self.formation_tag and document.is_root_offres(parent):
            raise SplitMismatch("a formation the splitter did not cut", line=element.sourceline)
        elif (
            parent is None or (element.tag == document.offres_tag and parent.getparent() is None)
        ) and _opening(element) != self.expected.get(element.tag):
            raise SplitMismatch(
                f"<{etree.QName(element).localname}> is not the one formations are parsed in",
                line=element.sourceline,
            )


def _opening(element: etree._Element) -> tuple[object, ...]:
    """What a start tag gives the elements inside it: name, attributes, namespaces."""
    return element.tag, dict(element.attrib), element.nsmap


def _document_error(element: etree._Element, path: str, reason: str) -> RecordError:
    return RecordError(None, element.sourceline, path, reason, stage="document")


def _name(element: etree._Element, namespace: str) -> tuple[str, str]:
    """The element's local name, and what to say of its namespace when it is not LHEO's."""
    if not isinstance(element.tag, str):
        return "node", ""
    qname = etree.QName(element)
    if qname.namespace == namespace:
        return qname.localname, ""
    if qname.namespace:
        return qname.localname, f" in namespace {qname.namespace}"
    return qname.localname, " in no namespace"


def _unexpected(element: etree._Element, namespace: str, where: str, allowed: str) -> RecordError:
    local, foreign = _name(element, namespace)
    holder = where.rsplit("/", 1)[-1]
    return _document_error(
        element,
        f"{where}/{local}",
        f"<{local}>{foreign} does not belong in {holder}: only {allowed} do; it was not read",
    )


def _extras_errors(extras: etree._Element, namespace: str, path: str) -> list[RecordError]:
    """Children of ``extras`` (and of the extras inside it) that are neither extra nor extras."""
    errors: list[RecordError] = []
    for child in extras:
        local, foreign = _name(child, namespace)
        if not foreign and local == "extras":
            errors += _extras_errors(child, namespace, f"{path}/extras")
        elif foreign or local != "extra":
            errors.append(_unexpected(child, namespace, path, "extra and extras"))
    return errors
