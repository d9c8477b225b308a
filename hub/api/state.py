"""What ``create_app`` keeps on ``app.state`` for the routes: the store and the settings."""

from __future__ import annotations

from fastapi import Request

from hub.settings import Settings
from hub.store import Store

__all__ = ["app_settings", "app_store"]


def app_store(request: Request) -> Store:
    """The store of the app serving ``request``."""
    store: Store = request.app.state.store
    return store


def app_settings(request: Request) -> Settings:
    """The settings of the app serving ``request``."""
    settings: Settings = request.app.state.settings
    return settings
