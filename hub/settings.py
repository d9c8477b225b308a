"""Typed, frozen configuration from TOML; secrets only from the environment.

``config/hub.toml`` is the embedded default. ``HUB_CONFIG`` names another file, and
``HUB_DATABASE_URL`` / ``HUB_ARCHIVE_DIR`` override the two settings that differ most
between a laptop and production.
"""

from __future__ import annotations

import os
import re
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

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


class IngestSettings(_Frozen):
    """What the hub does with flows, whatever their source (a source file may override)."""

    hold_deletions_share: float = Field(default=0.2, ge=0, le=1)
    """A snapshot that would delete more than this share of its source's live offer..."""
    hold_deletions_min: int = Field(default=10, ge=0)
    """...and more than this many formations is held for an operator, not applied."""


class LoggingSettings(_Frozen):
    format: Literal["json", "console"] = "console"
    """``json`` (one object per line, for production) or ``console`` (readable, for development)."""
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class SchedulerSettings(_Frozen):
    enabled: bool = True
    """Whether ``hub serve`` runs each configured source on its schedule."""
    run_timeout_seconds: float = Field(default=900.0, gt=0)
    """A sync still running after this long is abandoned and reported as timed out."""
    jitter_seconds: int = Field(default=30, ge=0)
    """Random delay added to each slot (unless a source sets its own), so replicas spread."""


class HealthSettings(_Frozen):
    default_staleness_seconds: int = Field(default=26 * 3600, gt=0)
    """Expected freshness of a source whose own config sets none (push sources, say)."""
    trend_flows: int = Field(default=30, ge=2, le=500)
    """How many recent flows the dashboard's sparkline and the rejection baseline cover."""
    rejection_rate_warning: float = Field(default=0.05, ge=0, le=1)
    """Rejection rate of a flow above which the dashboard shows it as a warning."""


# ── Sources: one TOML file per regional system (config/regions/<name>.toml) ──────────────
# Read by the sync runner (hub/sync.py), the connectors and the scheduler. Secrets never
# sit in these files: a source names the environment variable that holds its token.

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: object) -> object:
    """``"90s"``, ``"15m"``, ``"6h"``, ``"2d"`` or a number of seconds, as a timedelta."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match is None:
            raise ValueError(f"{value!r} is not a duration: write 90s, 15m, 6h or 2d")
        return timedelta(seconds=float(match[1]) * _UNIT_SECONDS[match[2]])
    return value


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


def env_token(token_env: str | None, *, where: object, owner: str) -> str | None:
    """The secret in the environment variable ``token_env``; None if no variable is named.

    Sources and publishers alike name the variable, never the secret: an unset or empty one
    is a ConfigError naming the file (``where``) and who needs it (``owner``: ``source
    'emfor'``)."""
    if token_env is None:
        return None
    value = os.environ.get(token_env)
    if not value:
        raise ConfigError(
            f"{where}: token_env: environment variable {token_env} is not set "
            f"({owner} needs its token there)"
        )
    return value


class ScheduleSettings(_Frozen):
    """When the scheduler runs a source: a cron expression or a fixed interval, plus jitter."""

    cron: str | None = None
    """Five-field cron expression (minute hour day month weekday), e.g. ``"30 2 * * *"``."""
    every: Duration | None = None
    """Fixed interval between runs, e.g. ``"6h"``."""
    jitter: Duration | None = None
    """Random delay added to each run so sources do not all start at once (unset: the
    scheduler's default)."""

    @model_validator(mode="after")
    def _one_rule(self) -> ScheduleSettings:
        if (self.cron is None) == (self.every is None):
            raise ValueError("give exactly one of cron or every")
        return self


class SourceSettings(_Frozen):
    """One regional system feeding the hub; the file name is the source name."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    """The source's name in the store, the API and the CLI (the file's stem)."""
    connector: str
    """Connector entry point (group ``hub.connectors``), e.g. ``dokelio``."""
    region: str = Field(pattern=r"^\d{2}$")
    """INSEE code of the region the offers belong to (``11`` Île-de-France...)."""
    url: str | None = Field(default=None, pattern=r"^https?://")
    """Where to pull from (pull connectors); push sources have none."""
    schedule: ScheduleSettings = ScheduleSettings(every=timedelta(hours=6))
    stale_after: Duration = timedelta(hours=36)
    """Expected freshness: older than this since the last successful sync is an alert."""
    token_env: str | None = Field(default=None, pattern=r"^[A-Z_][A-Z0-9_]*$")
    """Name of the environment variable holding the source's token (never the token)."""
    enabled: bool = True
    assume_encoding: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._-]+$")
    """Repair, instead of refusing, a flow whose bytes contradict its declared encoding:
    read it in this encoding (``UTF-8``) and flag it in the flow's report."""
    hold_deletions_share: float | None = Field(default=None, ge=0, le=1)
    """This source's own ``[ingest] hold_deletions_share``."""
    hold_deletions_min: int | None = Field(default=None, ge=0)
    """This source's own ``[ingest] hold_deletions_min``."""
    options: dict[str, Any] = {}
    """Connector-specific settings (page size...), checked by the connector."""
    file: Path | None = None
    """The file this source came from (for messages)."""

    def token(self) -> str | None:
        """The secret named by ``token_env``, from the environment; None if none is named."""
        return env_token(
            self.token_env, where=self.file or self.name, owner=f"source {self.name!r}"
        )


class FetchSettings(_Frozen):
    """How the hub talks to regional systems: one policy for every pull connector."""

    connect_timeout: float = Field(default=10.0, gt=0)
    read_timeout: float = Field(default=60.0, gt=0)
    """Longest wait for the next bytes of a response."""
    max_bytes: int = Field(default=512 * 1024 * 1024, gt=0)
    """Larger responses are refused without being read whole."""
    attempts: int = Field(default=5, ge=1)
    """Tries per request, the first included, for retriable faults."""
    backoff_initial: float = Field(default=1.0, ge=0)
    backoff_max: float = Field(default=60.0, ge=0)
    jitter: float = Field(default=1.0, ge=0)
    """Random seconds added to each backoff, so retries of many sources spread out."""
    max_retry_after: float = Field(default=300.0, ge=0)
    """Longest ``Retry-After`` honoured; a longer one is cut to this."""


class SimulatorSettings(_Frozen):
    """Development and demo: simulate the regional systems on 127.0.0.1."""

    enabled: bool = False
    """Start the demo named by ``demo`` with ``hub serve`` (and ``hub sync``)."""
    demo: str | None = Field(default=None, pattern=r"^[\w.]+:\w+$")
    """``"package.module:Name"`` of the demo (development tooling, not in the hub's wheel):
    it serves a simulator for each source whose URL points at 127.0.0.1."""
    formations: int = Field(default=120, ge=0)
    """Offers each simulated system starts with."""
    seed: int = 2024
    invalid_share: float = Field(default=0.03, ge=0, le=1)
    """Share of XSD-invalid formations the simulated systems send, as real exports do."""
    first_sync: bool = True
    """Sync every pull source once, in the background, when ``hub serve`` starts."""


class PublishingSettings(_Frozen):
    """Outbound deliveries to partners (``hub/publish/publishers``)."""

    dir: str = "publishers"
    """Folder of the publisher files (``<name>.toml``), relative to this configuration file."""
    spool_dir: Path = Path("var/publish")
    """Where built deliveries wait, byte for byte, until their partner acknowledges them."""
    enabled: bool = True
    """Whether ``hub serve`` runs each enabled publisher on its schedule."""
    simulator: bool = False
    """Development: the demo (``[simulators] demo``) serves the intercariforef receiver for
    the partners aimed at 127.0.0.1."""


Named = TypeVar("Named", bound=BaseModel)


def load_toml_folder(folder: Path | None, model: type[Named]) -> dict[str, Named]:
    """Every ``<name>.toml`` of ``folder`` validated as a ``model``, keyed by name.

    Sources and publishers alike: the file's stem is the model's ``name`` and its path its
    ``file`` (for messages); errors name the file and the key. No folder (None, or absent)
    means none."""
    found: dict[str, Named] = {}
    for file in sorted(folder.glob("*.toml")) if folder is not None and folder.is_dir() else []:
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
            found[file.stem] = model(**data, name=file.stem, file=file)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file}: invalid TOML: {exc}") from exc
        except ValidationError as exc:
            raise ConfigError(f"{file}: {_problems(exc)}") from exc
    return found


def load_sources(folder: Path) -> dict[str, SourceSettings]:
    """Every ``<name>.toml`` of ``folder``, validated; errors name the file and the key."""
    return load_toml_folder(folder, SourceSettings)


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()
    )


class Settings(_Frozen):
    store: StoreSettings = StoreSettings()
    api: ApiSettings = ApiSettings()
    ingest: IngestSettings = IngestSettings()
    logging: LoggingSettings = LoggingSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    health: HealthSettings = HealthSettings()
    fetch: FetchSettings = FetchSettings()
    simulators: SimulatorSettings = SimulatorSettings()
    publishing: PublishingSettings = PublishingSettings()
    sources: dict[str, SourceSettings] = {}
    """The regional sources, from the ``[regions] dir`` folder (default ``regions/`` beside
    the configuration file)."""
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
    regions = dict(data.pop("regions", {}))  # type: ignore[call-overload]
    if path is not None:
        data["sources"] = load_sources(path.parent / str(regions.pop("dir", "regions")))
    if regions:
        raise ConfigError(f"{path}: regions: unknown keys {sorted(regions)} (only dir)")
    try:
        return Settings(**data, config_path=path)
    except ValidationError as exc:
        raise ConfigError(f"{path or 'defaults'}: {_problems(exc)}") from exc
