"""A filled-in example of the template, for a territory: the tests' and the demo's input.

``example_rows(region)`` gives realistic rows (vocational domains and certifications from
the corpus generator, towns of the territory from the geographic reference), one per
session; ``write_csv`` and ``write_xlsx`` turn rows into the bytes a territory would send.
Generated on demand so no binary file sits in the repository.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from importlib import resources

import openpyxl

from connectors.spreadsheet.template import COLUMNS, TERRITORIES
from simulators.corpus.text import DOMAINES, NOMS, NOMS_VOIE, TYPES_VOIE

Row = dict[str, str]
_PHONE_PREFIX = {"01": "0590", "02": "0596", "03": "0594", "04": "0262", "06": "0269"}
HEADER: tuple[str, ...] = tuple(column.name for column in COLUMNS)


def _towns(region: str) -> list[tuple[str, str]]:
    """(code postal, ville) of the territory's communes."""
    text = resources.files("simulators.corpus").joinpath("communes.csv").read_text(encoding="utf-8")
    towns = []
    for line in csv.DictReader(io.StringIO(text)):
        if line["region"] == region:
            towns.append((line["codes_postaux"].split()[0], line["nom"]))
    return towns


def _adresse(rng: random.Random) -> str:
    return f"{rng.randint(1, 120)} {rng.choice(TYPES_VOIE)} {rng.choice(NOMS_VOIE)}"


def example_rows(region: str = "04", *, formations: int = 4, seed: int = 0) -> list[Row]:
    """Rows of ``formations`` formations of the territory, each with one to three sessions."""
    prefix, name = TERRITORIES[region]
    rng = random.Random(f"{region}-{seed}")
    towns = _towns(region)
    rows: list[Row] = []
    for index in range(formations):
        domaine = DOMAINES[(index + seed) % len(DOMAINES)]
        certif = domaine.certifications[0]
        code_postal, ville = rng.choice(towns)
        siret = f"{rng.randint(10**8, 10**9 - 1)}{rng.randint(10000, 99999)}"
        formation: Row = {
            "numero_formation": f"{prefix}-F{seed:02d}{index + 1:03d}",
            "intitule": certif.intitule[:255],
            "objectif": f"Se qualifier au métier d'{domaine.metier} à {name}.",
            "resultats_attendus": certif.intitule[:200],
            "contenu": " ; ".join(domaine.modules),
            "certifiante": "oui",
            "formacode": " ".join(domaine.formacodes[:2]),
            "code_rncp": certif.rncp or "",
            "code_certifinfo": certif.certifinfo,
            "niveau_sortie": "",
            "contact_nom": rng.choice(NOMS),
            "contact_telephone": f"{_PHONE_PREFIX[region]}{rng.randint(100000, 999999)}",
            "contact_courriel": f"contact{index + 1}@formation-{prefix}.fr",
            "date_maj": "02/01/2026",
            "organisme_siret": siret,
            "organisme_raison_sociale": f"Association Formation {ville}"[:250],
            "organisme_numero_activite": f"{prefix[1:]}{rng.randint(10**8, 10**9 - 1)}",
            "organisme_adresse": _adresse(rng),
            "organisme_code_postal": code_postal,
            "organisme_ville": ville,
            "public_vise": "80006",
            "rythme": "Temps plein, 35 heures par semaine",
            "lieu_adresse": _adresse(rng),
            "lieu_code_postal": code_postal,
            "lieu_ville": ville,
            "duree_heures": str(rng.choice((210, 420, 630))),
            "prix_total_ttc": f"{rng.randint(15, 60) * 100},00",
            "code_financeur": rng.choice(("2", "2 3", "4", "18")),
        }
        start = date(2027, 1, 4) + timedelta(weeks=rng.randint(0, 30))
        for number in range(rng.randint(1, 3)):
            debut = start + timedelta(weeks=12 * number)
            rows.append(
                formation
                | {
                    "date_debut": debut.strftime("%d/%m/%Y"),
                    "date_fin": (debut + timedelta(weeks=10)).strftime("%d/%m/%Y"),
                }
            )
    return rows


def write_csv(
    rows: Iterable[Row],
    *,
    delimiter: str = ";",
    bom: bool = True,
    header: Sequence[str] = HEADER,
) -> bytes:
    """The rows as a CSV file in UTF-8 (with a BOM, as Excel writes it, unless told not to)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(name, "") for name in header])
    return ("\ufeff" if bom else "").encode() + buffer.getvalue().encode("utf-8")


def write_xlsx(rows: Iterable[Row], *, header: Sequence[str] = HEADER) -> bytes:
    """The rows as an XLSX workbook; dates become real date cells, as a person types them."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "offres"
    sheet.append(list(header))
    for row in rows:
        sheet.append([_typed(name, row.get(name, "")) for name in header])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _typed(name: str, value: str) -> str | date:
    if name.startswith("date_") and value.count("/") == 2:
        day, month, year = (int(part) for part in value.split("/"))
        try:
            return date(year, month, day)
        except ValueError:
            return value  # a broken date stays text, as it would in a real sheet
    return value
