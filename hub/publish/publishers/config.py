"""A partner's configuration: ``config/publishers/<name>.toml``, typed, frozen, checked.

The file name is the partner's name (``intercariforef``, ``france-travail``...); the
``publisher`` key names the entry point that delivers to it, so two partners can share one
publisher (two file drops, say). Secrets never sit in these files: a partner that needs a
token names the environment variable holding it (``token_env``).

Example::

    publisher = "intercariforef"
    destination = "https://intercariforef.example/api/lheo/offres"
    token_env = "HUB_INTERCARIFOREF_TOKEN"
    format = "lheo-2.3+gzip"
    schedule = { every = "15m" }
    full_every = "1d"

    [filter]
    regions = ["11", "84"]
    language_training = false
    certifying = false
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, Table, and_, true

from hub.errors import ConfigError
from hub.settings import Duration, ScheduleSettings, Settings, env_token, load_toml_folder

__all__ = ["PublisherConfig", "PublisherFilter", "load_publishers", "publisher_config"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PublisherFilter(_Frozen):
    """Which part of the national offer a partner receives; the default is all of it."""

    regions: tuple[str, ...] = ()
    """INSEE region codes kept (the formation's region; a session's for per-session files);
    empty keeps every region."""
    sources: tuple[str, ...] = ()
    """Source names kept; empty keeps every source."""
    language_training: bool = False
    """Only French-language training (formations the map stage gave a language kind)."""
    certifying: bool = False
    """Only certifying formations (``<certifiante>1</certifiante>``)."""

    def keeps(
        self,
        *,
        source: str,
        region: str | None,
        language_kind: str | None,
        certifiante: bool | None,
    ) -> bool:
        """Whether a live formation with these columns belongs to the partner's offer."""
        return (
            (not self.regions or region in self.regions)
            and (not self.sources or source in self.sources)
            and (not self.language_training or language_kind is not None)
            and (not self.certifying or certifiante is True)
        )

    def where(self, formations: Table) -> ColumnElement[bool]:
        """The same rule as `keeps`, as SQL on the formation table (for full files)."""
        f = formations.c
        clauses: list[ColumnElement[bool]] = []
        if self.regions:
            clauses.append(f.region.in_(self.regions))
        if self.sources:
            clauses.append(f.source.in_(self.sources))
        if self.language_training:
            clauses.append(f.language_kind.is_not(None))
        if self.certifying:
            clauses.append(f.certifiante.is_(True))
        return and_(true(), *clauses)

    def describe(self) -> dict[str, Any]:
        """The criteria that are set, for manifests and listings."""
        return {k: v for k, v in self.model_dump(mode="json").items() if v not in ((), [], False)}


class PublisherConfig(_Frozen):
    """One partner the hub delivers to; the file name is its name."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    """The partner's name in the ledger, the CLI and the metrics (the file's stem)."""
    publisher: str
    """Publisher entry point (group ``hub.publishers``): intercariforef, filedrop..."""
    enabled: bool = True
    destination: str
    """Where deliveries go: an ``http(s)://`` endpoint or a folder, as the publisher needs."""
    format: str | None = None
    """What is delivered (``lheo-2.3+gzip``, ``geojson``, ``csv``); the publisher's own by
    default, and checked against what it can write."""
    schedule: ScheduleSettings = ScheduleSettings(every=timedelta(hours=1))
    full_every: Duration | None = None
    """Send a full file when the last one is older than this (``1d``: a daily full);
    deltas otherwise. Unset: a full only on the first delivery or when asked."""
    token_env: str | None = Field(default=None, pattern=r"^[A-Z_][A-Z0-9_]*$")
    """Name of the environment variable holding the partner's token (never the token)."""
    filter: PublisherFilter = PublisherFilter()
    options: dict[str, Any] = {}
    """Publisher-specific settings, checked by the publisher."""
    file: Path | None = None
    """The file this configuration came from (for messages)."""

    def fingerprint(self) -> str:
        """Stable hash of what shapes the partner's files: publisher, format, filter and
        options. The partner's holdings were built under one; another means a full file."""
        shape = {
            "publisher": self.publisher,
            "format": self.format,
            "filter": self.filter.model_dump(mode="json"),
            "options": self.options,
        }
        canonical = json.dumps(shape, sort_keys=True, default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()

    @property
    def where(self) -> str:
        """How messages name this configuration: its file, else its name."""
        return str(self.file or self.name)

    def token(self) -> str | None:
        """The secret named by ``token_env``, from the environment; None if none is named."""
        return env_token(self.token_env, where=self.where, owner=f"partner {self.name!r}")


def publishers_dir(settings: Settings) -> Path | None:
    """The folder of publisher files, beside the configuration file (None without one)."""
    if settings.config_path is None:
        return None
    return settings.config_path.parent / settings.publishing.dir


def load_publishers(settings: Settings) -> dict[str, PublisherConfig]:
    """Every ``<name>.toml`` of the publishers folder, validated; errors name file and key."""
    return load_toml_folder(publishers_dir(settings), PublisherConfig)


def publisher_config(settings: Settings, name: str) -> PublisherConfig:
    """The configuration of partner ``name``; a ConfigError listing the configured ones."""
    configs = load_publishers(settings)
    if name not in configs:
        known = ", ".join(sorted(configs)) or "none"
        raise ConfigError(
            f"unknown publisher {name!r}; configured publishers: {known}",
            hint=f"add {publishers_dir(settings) or 'config/publishers'}/{name}.toml "
            "or use one of the names listed",
        )
    return configs[name]
