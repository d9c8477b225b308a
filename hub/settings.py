"""Typed, frozen configuration from TOML; secrets only from the environment.

``config/hub.toml`` is the embedded default. ``HUB_CONFIG`` names another file, and
``HUB_DATABASE_URL`` / ``HUB_ARCHIVE_DIR`` override the two settings that differ most
between a laptop and production.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hub.errors import ConfigError

DEFAULT_CONFIG = Path("config/hub.toml")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StoreSettings(_Frozen):
    database_url: str = "sqlite:///var/hub.db"
    """SQLAlchemy URL; PostgreSQL in production (postgresql+psycopg://...)."""
    archive_dir: Path = Path("var/archive")
    """Where raw flows are archived, gzip-compressed, before they are processed."""


class ApiSettings(_Frozen):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    max_push_bytes: int = Field(default=64 * 1024 * 1024, gt=0)
    """Larger push bodies are refused with 413 before they are read whole."""
    feed_public: bool = True
    """When false, the feed needs a consumer key (``feed_keys_env``)."""
    feed_keys_env: str = "HUB_FEED_KEYS"
    """Environment variable holding comma-separated consumer keys."""


class Settings(_Frozen):
    store: StoreSettings = StoreSettings()
    api: ApiSettings = ApiSettings()
    config_path: Path | None = None
    """The file these settings came from (for messages)."""


def load_settings(path: Path | None = None) -> Settings:
    """Read the TOML file, apply environment overrides, and validate everything."""
    if path is None:
        env_path = os.environ.get("HUB_CONFIG")
        path = Path(env_path) if env_path else (DEFAULT_CONFIG if DEFAULT_CONFIG.exists() else None)
    data: dict[str, object] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"configuration file {path} does not exist") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    store = dict(data.get("store", {}))  # type: ignore[call-overload]
    if url := os.environ.get("HUB_DATABASE_URL"):
        store["database_url"] = url
    if archive := os.environ.get("HUB_ARCHIVE_DIR"):
        store["archive_dir"] = archive
    data["store"] = store
    try:
        return Settings(**data, config_path=path)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise ConfigError(f"{path or 'defaults'}: {problems}") from exc
