"""Small, hand-readable LHEO documents for tests that need exact control of each record.

The realistic, large corpora come from ``simulators.corpus``; these stay minimal so a test
reads as its specification.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from lxml import etree

NS = {"2.2": "http://www.lheo.org/2.2", "2.3": "http://lheo.gouv.fr/2.3"}


def formation(
    numero: str,
    *,
    intitule: str = "Français langue étrangère - niveau A2",
    datemaj: str | None = "20260101",
    financeur: str = "2",
    sessions: int = 1,
    debut: str = "20270105",
    contenu: str = "Communication orale et écrite en situation de la vie quotidienne.",
    extra: str = "",
) -> str:
    """One valid formation (both 2.2 and 2.3) with one action and ``sessions`` sessions."""
    maj = f' datemaj="{datemaj}"' if datemaj is not None else ""
    session_xml = "".join(
        f'<session numero="{numero}-S{i}"><periode><debut>{debut}</debut><fin>20270630</fin>'
        "</periode><adresse-inscription><adresse><ligne>12 rue des Écoles</ligne>"
        "<codepostal>75005</codepostal><ville>Paris</ville></adresse></adresse-inscription>"
        "</session>"
        for i in range(1, sessions + 1)
    )
    return (
        f'<formation numero="{escape(numero)}"{maj}>'
        "<domaine-formation><code-FORMACODE>15235</code-FORMACODE></domaine-formation>"
        f"<intitule-formation>{escape(intitule)}</intitule-formation>"
        "<objectif-formation>Atteindre le niveau A2 du CECRL.</objectif-formation>"
        "<resultats-attendus>Attestation de niveau.</resultats-attendus>"
        f"<contenu-formation>{escape(contenu)}</contenu-formation>"
        "<certifiante>0</certifiante>"
        "<contact-formation><coordonnees><nom>Durand</nom></coordonnees></contact-formation>"
        "<parcours-de-formation>1</parcours-de-formation>"
        "<code-niveau-entree>0</code-niveau-entree>"
        f'<action numero="{escape(numero)}-A1">'
        "<rythme-formation>Temps partiel, 12 heures par semaine</rythme-formation>"
        "<code-public-vise>80056</code-public-vise>"
        "<niveau-entree-obligatoire>0</niveau-entree-obligatoire>"
        "<modalites-alternance>Sans objet</modalites-alternance>"
        "<modalites-enseignement>0</modalites-enseignement>"
        "<conditions-specifiques>Aucune</conditions-specifiques>"
        "<prise-en-charge-frais-possible>1</prise-en-charge-frais-possible>"
        "<lieu-de-formation><coordonnees><adresse><ligne>12 rue des Écoles</ligne>"
        "<codepostal>75005</codepostal><ville>Paris</ville><departement>75</departement>"
        "</adresse></coordonnees></lieu-de-formation>"
        "<modalites-entrees-sorties>1</modalites-entrees-sorties>"
        f"{session_xml}"
        f"<organisme-financeur><code-financeur>{financeur}</code-financeur></organisme-financeur>"
        "</action>"
        '<organisme-formation-responsable numero="OF-0001">'
        "<numero-activite>11755555555</numero-activite>"
        "<SIRET-organisme-formation><SIRET>12345678900017</SIRET></SIRET-organisme-formation>"
        "<nom-organisme>Langues et Cité</nom-organisme>"
        "<raison-sociale>Association Langues et Cité</raison-sociale>"
        "<coordonnees-organisme><coordonnees><adresse><ligne>3 place de la Mairie</ligne>"
        "<codepostal>75005</codepostal><ville>Paris</ville></adresse></coordonnees>"
        "</coordonnees-organisme>"
        "<contact-organisme><coordonnees><nom>Martin</nom></coordonnees></contact-organisme>"
        "</organisme-formation-responsable>"
        f"{extra}"
        "</formation>"
    )


def document(
    formations: Iterable[str],
    *,
    version: str = "2.3",
    encoding: str = "UTF-8",
    deletions: Iterable[str] = (),
) -> bytes:
    """A whole LHEO document around ``formations``, with optional delta deletions."""
    deleted = "".join(f'<extra info="numero">{escape(n)}</extra>' for n in deletions)
    root_extras = f'<extras info="suppressions">{deleted}</extras>' if deleted else ""
    text = (
        f'<?xml version="1.0" encoding="{encoding}"?>\n'
        f'<lheo xmlns="{NS[version]}"><offres>\n'
        + "\n".join(formations)
        + f"\n</offres>{root_extras}</lheo>\n"
    )
    return text.encode(encoding)


def repaired_anotea_fixture(shared: Path) -> bytes:
    """The real anotea 2.2 export with its four deliberate XSD errors repaired.

    A real producer's file that the hub must carry into the national feed intact.
    """
    ns = "{http://www.lheo.org/2.2}"
    tree = etree.parse(str(shared / "lheo/samples/intercarif-offre-lheo-2.2-anotea-fixture.xml"))
    for element in tree.iter(f"{ns}coordonneFs"):
        element.tag = f"{ns}coordonnees"
    for element in tree.iter(f"{ns}SIRET"):
        element.text = (element.text or "")[-14:]
    for coordonnees in tree.iter(f"{ns}coordonnees"):
        courriel, adresse = coordonnees.find(f"{ns}courriel"), coordonnees.find(f"{ns}adresse")
        if courriel is None or adresse is None:
            continue
        if coordonnees.index(courriel) < coordonnees.index(adresse):
            web = coordonnees.find(f"{ns}web")
            if web is not None:
                web.addprevious(courriel)
            else:
                coordonnees.append(courriel)
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")


def received(store: Any, source: str, data: bytes, kind: str = "delta", **how: Any) -> str:
    """Archive ``data`` as one file and record it as a received flow; its id (not applied).

    What a process killed right after receiving a flow leaves behind.
    """
    from hub.pipeline.ingest import archive_part, ensure_source, receive

    ensure_source(store.engine, source, how.pop("region", None))
    part = archive_part(store.archive_dir, source, [data], name=how.pop("name", f"{source}.xml"))
    flow_id: str = receive(store, source, [part], kind, **how)  # type: ignore[arg-type]
    return flow_id


def flow_status(store: Any, flow_id: str) -> tuple[str, str | None]:
    """A stored flow's status and note (why it is held, superseded or discarded)."""
    from sqlalchemy import select

    from hub.store.flows import FLOWS

    with store.engine.connect() as connection:
        row = connection.execute(
            select(FLOWS.c.status, FLOWS.c.note).where(FLOWS.c.id == flow_id)
        ).one()
    return str(row.status), row.note
