"""Dokelio, Île-de-France's training-offer database (region 11): a paged LHEO 2.3 web service."""

from __future__ import annotations

from connectors.dokelio.connector import DokelioConnector

__all__ = ["DokelioConnector"]
