"""When two legacy exports describe the same offer, and which description wins.

The rules, in the order they apply (they are the connector's documentation too):

1. **Same offer.** Two formations of *different* bases are the same offer when their merge
   keys are equal. The key is

   * the SIRET of the ``organisme-formation-responsable`` (spaces and dots removed),
   * the Certif Info codes of its ``certification`` elements or, when it has none, the
     FORMACODEs of its ``domaine-formation``,
   * and the set of its sessions as (postal code of the place, ``debut``, ``fin``): the
     postal code of the action's ``lieu-de-formation``, else of the session's
     ``adresse-inscription``.

   A formation lacking any of the three has no key and is never merged. Numeros, titles
   and texts are not part of the key: the bases number and word offers each their own way.
   Copies are paired in document order: a base's second copy of a key pairs with the other
   base's second copy, never with a copy of its own base.
2. **Winner.** Of the copies of one offer, the one the XSD accepts beats one it refuses;
   then the newest ``datemaj``; then the preferred base (Rhône-Alpes by default, the
   larger one). The winner's content is published; each other copy that differs is a
   finding (``fusion-ecart``) naming the differing elements.
3. **Identity.** The merged offer takes the numero of its copy in the preferred base,
   else of its copy in the first base that has one, with the old region prefix of that
   base's numeros (``82_``, ``83_``) replaced by the current region's (``84_``): the same
   offer keeps its numero from one export to the next whichever copy wins. Should two
   offers end with the same numero, the later keeps its numero as sent (``numero-en-collision``).
4. **Provenance.** The published formation ends with ``<extras info="provenance">`` naming
   each base that describes it and the copy's numero there, then the base retained.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from lxml import etree

from hub.errors import RecordError
from hub.lheo.dialect import Flag
from hub.lheo.schema import NS_23

__all__ = [
    "PROVENANCE_INFO",
    "Copy",
    "MergeKey",
    "MergePlan",
    "Offer",
    "differences",
    "fingerprint",
    "leaves",
    "merge_key",
    "provenance_extras",
]

PROVENANCE_INFO = "provenance"
"""``info`` of the formation-level extras naming the bases an offer comes from."""

MergeKey = tuple[str, str, tuple[tuple[str, str, str], ...]]
NS = {"l": NS_23}


def _text(element: etree._Element, path: str) -> str:
    found = element.find(path, NS)
    return " ".join((found.text or "").split()) if found is not None else ""


def merge_key(formation: etree._Element) -> MergeKey | None:
    """The key two copies of one offer share (rule 1), None when one part is missing."""
    siret = _text(
        formation, "l:organisme-formation-responsable/l:SIRET-organisme-formation/l:SIRET"
    )
    siret = siret.replace(" ", "").replace(".", "")
    certifinfos = sorted(
        {_text(c, ".") for c in formation.iterfind("l:certification/l:code-CERTIFINFO", NS)} - {""}
    )
    formacodes = sorted(
        {_text(c, ".") for c in formation.iterfind("l:domaine-formation/l:code-FORMACODE", NS)}
        - {""}
    )
    subject = f"certifinfo:{'|'.join(certifinfos)}" if certifinfos else ""
    subject = subject or (f"formacode:{'|'.join(formacodes)}" if formacodes else "")
    sessions = set()
    for action in formation.iterfind("l:action", NS):
        lieu = _text(action, "l:lieu-de-formation//l:codepostal")
        for session in action.iterfind("l:session", NS):
            place = lieu or _text(session, "l:adresse-inscription//l:codepostal")
            debut, fin = _text(session, "l:periode/l:debut"), _text(session, "l:periode/l:fin")
            sessions.add((place, debut, fin))
    if not siret or not subject or not sessions:
        return None
    return siret, subject, tuple(sorted(sessions))


def leaves(formation: etree._Element) -> dict[str, str]:
    """Every element with text, by its path in the formation, whitespace collapsed.

    Attributes (numeros, ``datemaj``) are left out: they differ between bases by design.
    """
    found: dict[str, str] = {}
    _collect(formation, "", found)
    return found


def _collect(parent: etree._Element, path: str, found: dict[str, str]) -> None:
    """Walk once, naming children as ``getelementpath`` would (``action[2]``, ``session``)."""
    children = [(str(child.tag), child) for child in parent if isinstance(child.tag, str)]
    counts = Counter(tag for tag, _ in children)
    seen: Counter[str] = Counter()
    for tag, child in children:
        step = tag.rpartition("}")[2]
        if counts[tag] > 1:
            seen[tag] += 1
            step = f"{step}[{seen[tag]}]"
        child_path = f"{path}/{step}" if path else step
        if child.text and not child.text.isspace():
            found[child_path] = " ".join(child.text.split())
        if len(child):
            _collect(child, child_path, found)


def fingerprint(formation: etree._Element) -> bytes:
    """A short digest of the formation without its attributes (numeros, ``datemaj``).

    Copies with equal fingerprints say the same; for those that differ, :func:`leaves`
    then tells where. Strips the attributes of ``formation``: call it last.
    """
    for element in formation.iter(tag=etree.Element):
        element.attrib.clear()
    return hashlib.blake2b(etree.tostring(formation, encoding="UTF-8"), digest_size=16).digest()


def differences(kept: dict[str, str], other: dict[str, str], *, limit: int = 5) -> list[str]:
    """What ``other`` says differently from ``kept``, element by element (at most ``limit``)."""

    def short(text: str | None) -> str:
        if text is None:
            return "(absent)"
        return f"« {text[:57]}… »" if len(text) > 60 else f"« {text} »"

    paths = [p for p in sorted(kept.keys() | other.keys()) if kept.get(p) != other.get(p)]
    described = [f"{p}: {short(other.get(p))} instead of {short(kept.get(p))}" for p in paths]
    if len(described) > limit:
        described = [*described[:limit], f"and {len(paths) - limit} more"]
    return described


@dataclass(slots=True)
class Copy:
    """One base's formation, as indexed before the merge (no element kept)."""

    base: str
    position: int
    """Its rank among the formations of its export (0-based)."""
    numero: str
    line: int
    datemaj: str
    valid: bool
    key: MergeKey | None
    fingerprint: bytes
    flags: list[Flag] = field(default_factory=list)


@dataclass(slots=True)
class Offer:
    """One offer of the region: its copies (one per base at most) and the one published."""

    copies: dict[str, Copy]
    winner: Copy | None = None
    numero: str = ""

    def differing(self) -> bool:
        """Whether some copy says something the winner does not."""
        prints = {copy.fingerprint for copy in self.copies.values()}
        return len(prints) > 1


class MergePlan:
    """Groups the copies of every base into offers, then decides winners and numeros."""

    def __init__(
        self, bases: Sequence[str], preferred: str, prefixes: dict[str, str], region: str
    ) -> None:
        self.rank = {preferred: 0} | {b: i + 1 for i, b in enumerate(bases) if b != preferred}
        self.bases = list(bases)
        self.prefixes = prefixes
        self.region = region
        self.offers: list[Offer] = []
        self._by_key: dict[MergeKey, list[Offer]] = {}
        self._by_position: dict[tuple[str, int], Offer] = {}

    def add(self, copy: Copy) -> None:
        """Pair ``copy`` with the first offer of its key that has no copy of its base yet."""
        candidates = self._by_key.setdefault(copy.key, []) if copy.key is not None else []
        offer = next((o for o in candidates if copy.base not in o.copies), None)
        if offer is None:
            offer = Offer({})
            self.offers.append(offer)
            if copy.key is not None:
                candidates.append(offer)
        offer.copies[copy.base] = copy
        self._by_position[(copy.base, copy.position)] = offer

    def offer_of(self, base: str, position: int) -> Offer | None:
        return self._by_position.get((base, position))

    def decide(self, files: dict[str, str] | None = None) -> list[RecordError]:
        """Choose each offer's winner (rule 2) and numero (rule 3); collisions as findings.

        ``files`` names each base's export file, for the findings.
        """
        findings: list[RecordError] = []
        taken: set[str] = set()
        for offer in sorted(self.offers, key=self._identity_order):
            offer.winner = max(offer.copies.values(), key=self._strength)
            identity = self._identity_copy(offer)
            numero = self._harmonised_numero(identity)
            if numero in taken:
                findings.append(
                    RecordError(
                        identity.numero,
                        identity.line,
                        f"formation[@numero='{identity.numero}']",
                        f"numero-en-collision: {numero} already names another offer; "
                        f"this one keeps its {identity.base} numero {identity.numero}",
                        stage="flag",
                        file=(files or {}).get(identity.base),
                    )
                )
                numero = identity.numero
            taken.add(numero)
            offer.numero = numero
        return findings

    def merged(self) -> Iterator[Offer]:
        """Offers described by more than one base."""
        return (offer for offer in self.offers if len(offer.copies) > 1)

    def _strength(self, copy: Copy) -> tuple[bool, str, int]:
        return copy.valid, copy.datemaj, -self.rank[copy.base]

    def _identity_copy(self, offer: Offer) -> Copy:
        return min(offer.copies.values(), key=lambda c: self.rank[c.base])

    def _identity_order(self, offer: Offer) -> tuple[int, int, int]:
        copy = self._identity_copy(offer)
        return self.rank[copy.base], self.bases.index(copy.base), copy.position

    def _harmonised_numero(self, copy: Copy) -> str:
        prefix = self.prefixes.get(copy.base)
        if prefix and copy.numero.startswith(f"{prefix}_"):
            return f"{self.region}_{copy.numero[len(prefix) + 1 :]}"
        return copy.numero


def provenance_extras(offer: Offer, bases: Sequence[str]) -> etree._Element:
    """``<extras info="provenance">``: each base describing the offer, its numero, the winner."""
    extras = etree.Element(f"{{{NS_23}}}extras", info=PROVENANCE_INFO)
    for base in bases:
        copy = offer.copies.get(base)
        if copy is None:
            continue
        etree.SubElement(extras, f"{{{NS_23}}}extra", info="base").text = base
        etree.SubElement(extras, f"{{{NS_23}}}extra", info=f"numero-{base}").text = copy.numero
    if offer.winner is not None:
        etree.SubElement(extras, f"{{{NS_23}}}extra", info="base-retenue").text = offer.winner.base
    return extras
