"""Grand-Est (region 44): a daily dated zip of LHEO 2.3, dropped in a folder or listed over HTTP."""

from __future__ import annotations

from connectors.grandest.connector import GrandEstConnector

__all__ = ["GrandEstConnector"]
