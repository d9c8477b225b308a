"""via-competences, Auvergne-Rhône-Alpes (region 84): two legacy exports merged into one offer."""

from __future__ import annotations

from connectors.viacompetences.connector import ViaCompetencesConnector

__all__ = ["ViaCompetencesConnector"]
