"""Fixtures for the harmonisation tests: the packaged tables, broken copies of them, and
`Lheo`, a builder of small LHEO 2.3 elements (helper modules are not importable here)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest
from lxml import etree
from lxml.builder import ElementMaker

from hub.lheo.schema import NS_23
from mappings import TABLES_DIRECTORY, Harmoniser, Tables, load_tables


@pytest.fixture(scope="session")
def tables() -> Tables:
    return load_tables()


@pytest.fixture(scope="session")
def harmoniser(tables: Tables) -> Harmoniser:
    return Harmoniser(tables)


@pytest.fixture
def table_copy(tmp_path: Path) -> Callable[[str, Callable[[str], str]], Path]:
    """Copy the packaged tables to ``tmp_path``, rewriting one file's text."""

    def copy(file: str, edit: Callable[[str], str]) -> Path:
        directory = tmp_path / "tables"
        shutil.copytree(TABLES_DIRECTORY, directory)
        target = directory / file
        target.write_text(edit(target.read_text(encoding="utf-8")), encoding="utf-8")
        return directory

    return copy


E = ElementMaker(namespace=NS_23, nsmap={None: NS_23})


class Lheo:
    """Builders of small LHEO 2.3 elements: just what a test needs, so it reads as its offer."""

    E = E
    """Any other element: ``lheo.E("prix-total-TTC", "1 250,50")``."""

    def extras(self, info: str, values: Mapping[str, str]) -> etree._Element:
        """``<extras info=...><extra info=k>v</extra>...</extras>``."""
        return E.extras(*(E.extra(value, info=key) for key, value in values.items()), info=info)

    def adresse(
        self,
        *,
        departement: str | None = None,
        region: str | None = None,
        commune: str | None = None,
        codepostal: str = "63000",
        latitude: str | None = None,
        longitude: str | None = None,
    ) -> etree._Element:
        element = E.adresse(E.ligne("1 rue de la Gare"), E.codepostal(codepostal), E.ville("Ville"))
        if departement is not None:
            element.append(E.departement(departement))
        if commune is not None:
            element.append(E("code-INSEE-commune", commune))
        if region is not None:
            element.append(E.region(region))
        if latitude is not None and longitude is not None:
            element.append(E.geolocalisation(E.latitude(latitude), E.longitude(longitude)))
        return element

    def session(
        self,
        numero: str = "S1",
        *,
        debut: str = "20240902",
        fin: str = "20241220",
        inscription: etree._Element | None = None,
        children: Sequence[etree._Element] = (),
    ) -> etree._Element:
        place = inscription if inscription is not None else self.adresse(departement="63")
        return E.session(
            E.periode(E.debut(debut), E.fin(fin)),
            E("adresse-inscription", place),
            *children,
            numero=numero,
        )

    def action(
        self,
        numero: str = "A1",
        *,
        financeurs: Sequence[str] = (),
        publics: Sequence[str] = ("83056",),
        lieu: etree._Element | None = None,
        sessions: Sequence[etree._Element] | None = None,
        children: Sequence[etree._Element] = (),
        financeur_extras: Mapping[str, etree._Element] | None = None,
    ) -> etree._Element:
        """An action; ``financeur_extras`` adds an extras block to the financeur of that code."""
        element = E.action(
            E("rythme-formation", "Temps partiel"),
            *(E("code-public-vise", code, ref="V14") for code in publics),
            numero=numero,
        )
        if lieu is not None:
            element.append(E("lieu-de-formation", E.coordonnees(lieu)))
        for session_element in sessions if sessions is not None else [self.session()]:
            element.append(session_element)
        for child in children:
            element.append(child)
        for code in financeurs:
            financeur = E("organisme-financeur", E("code-financeur", code))
            if financeur_extras and code in financeur_extras:
                financeur.append(financeur_extras[code])
            element.append(financeur)
        return element

    def formation(
        self,
        numero: str = "F1",
        *,
        intitule: str = "Formation",
        formacodes: Sequence[str] = (),
        certifications: Sequence[Mapping[str, str]] = (),
        actions: Sequence[etree._Element] | None = None,
        children: Sequence[etree._Element] = (),
        datemaj: str = "20240115",
    ) -> etree._Element:
        """A formation; each certification is a mapping of child name to code."""
        element = E.formation(
            E("domaine-formation", *(E("code-FORMACODE", code, ref="V14") for code in formacodes)),
            E("intitule-formation", intitule),
            numero=numero,
            datemaj=datemaj,
        )
        for certification in certifications:
            element.append(
                E.certification(*(E(name, code) for name, code in certification.items()))
            )
        for action_element in actions if actions is not None else [self.action()]:
            element.append(action_element)
        for child in children:
            element.append(child)
        return element


@pytest.fixture(scope="session")
def lheo() -> Lheo:
    return Lheo()
