"""Emfor, Bourgogne-Franche-Comté's training-offer database (region 27): one LHEO 2.2 export."""

from __future__ import annotations

from connectors.emfor.connector import EmforConnector

__all__ = ["EmforConnector"]
