"""The publisher contract: how the consolidated offer reaches a partner.

The outbound mirror of :mod:`connectors.base`. A publisher is a small subclass of
:class:`Publisher` that declares what it writes in class attributes and overrides two
stages; the runner (:mod:`hub.publish.publishers.runner`) owns everything else: the plan
(full or delta, from which acknowledged cursor), the spool, the ledger, the lock, retries.

``write(connection, plan, folder) -> Written``
    Build the delivery's files in ``folder`` (the spool) from one consistent read of the
    store: ``connection`` is inside a snapshot transaction and ``plan.to_cursor`` is the
    store cursor of that snapshot. Written once, the files are what every attempt of this
    delivery sends, byte for byte.
``deliver(delivery) -> Acknowledgement``
    Hand the spooled files to the partner and return its acknowledgement. Raise
    :class:`~hub.errors.RetriableDeliveryError` for what may work later (the runner
    records it and resends the same files next run) and
    :class:`~hub.errors.RejectedDeliveryError` for a refusal. HTTP publishers use
    :meth:`Publisher.sender` (the hub's client and retry policy), never their own loop.

Two modes, declared by ``mode``:

- ``delta``: LHEO publishers (:class:`LheoPublisher`). A full file when asked, when the
  partner holds nothing yet, when ``full_every`` has passed or when the filter changed;
  otherwise what changed since the acknowledged cursor, deletions included, computed
  against what the partner holds (``publisher_holding``).
- ``snapshot``: the whole filtered offer every time (GeoJSON, CSV), skipped when nothing
  changed, and not delivered again when its bytes equal the last acknowledged ones.
  :class:`SnapshotFilePublisher` keeps one such file up to date in a folder.

Register a publisher in ``pyproject.toml`` under ``[project.entry-points."hub.publishers"]``
and describe each partner in ``config/publishers/<name>.toml``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar, Literal
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import Connection

from hub.errors import ConfigError, RetriableDeliveryError
from hub.http import BearerToken, Sender, make_client
from hub.publish.publishers.config import PublisherConfig
from hub.publish.publishers.files import SpooledFile, atomic_copy, atomic_write_bytes, file_sha256
from hub.settings import Settings

__all__ = [
    "Acknowledgement",
    "Delivery",
    "DeliveryKind",
    "Plan",
    "PublishContext",
    "Publisher",
    "PublisherOptions",
    "SnapshotFilePublisher",
    "Written",
]

DeliveryKind = Literal["full", "delta"]
Mode = Literal["delta", "snapshot"]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class PublishContext:
    """What the hub hands every publisher: settings, HTTP client, clock, sleep (for tests)."""

    settings: Settings
    client: httpx.Client | None = None
    """The hub's HTTP client; made from ``[fetch]`` on first use when not given."""
    clock: Callable[[], datetime] = utcnow
    sleep: Callable[[float], None] | None = None
    """How retries wait (tests pass a function that does not)."""

    def http_client(self) -> httpx.Client:
        if self.client is None:
            self.client = make_client(self.settings.fetch)
        return self.client

    @property
    def spool_dir(self) -> Path:
        return self.settings.publishing.spool_dir


@dataclass(frozen=True, slots=True)
class Plan:
    """What the runner asks ``write`` for: a full file or a delta after ``since``."""

    delivery_id: str
    kind: DeliveryKind
    since: int | None
    """The acknowledged cursor a delta starts after (None for a full file)."""
    to_cursor: int
    """The store cursor of the snapshot ``write`` reads: the delivery covers up to it."""
    created_at: datetime
    fingerprint: str
    """What shapes the partner's files, as `PublisherConfig.fingerprint` hashes it."""


@dataclass(slots=True)
class Written:
    """What ``write`` built. No files and ``nothing`` set: there is nothing to deliver."""

    files: list[SpooledFile] = field(default_factory=list)
    formations: int = 0
    deletions: int = 0
    items: Path | None = None
    """Changes to the partner's holdings (delta publishers), applied on acknowledgement."""
    nothing: str | None = None
    """``up-to-date`` (nothing for this partner) or ``deferred`` (a reason in ``note``)."""
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """A recorded delivery as ``deliver`` sees it: identical on every attempt."""

    id: str
    publisher: str
    kind: DeliveryKind
    from_cursor: int | None
    to_cursor: int
    formations: int
    deletions: int
    created_at: datetime
    fingerprint: str
    files: list[SpooledFile]


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """The partner took the delivery: its receipt id (if it gives one) and the cursor."""

    ack_id: str | None
    cursor: int


class PublisherOptions(BaseModel):
    """A publisher's ``[options]`` table; subclass it to declare and check yours."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Publisher:
    """Base of every publisher: declare the class attributes, override the two stages."""

    name: ClassVar[str]
    """The entry point name (``hub.publishers`` group) this class is registered under."""
    mode: ClassVar[Mode] = "delta"
    formats: ClassVar[tuple[str, ...]]
    """What it can write; the first is the default ``format``."""
    destination_kind: ClassVar[Literal["url", "folder"]] = "folder"
    Options: ClassVar[type[PublisherOptions]] = PublisherOptions

    def __init__(self, config: PublisherConfig, context: PublishContext) -> None:
        self.config = config
        self.context = context
        self._senders: list[Sender] = []
        try:
            self.options = self.Options(**config.options)
        except ValidationError as exc:
            problems = "; ".join(
                f"options.{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
                for error in exc.errors()
            )
            raise ConfigError(f"{config.where}: {problems}") from exc
        if config.format is not None and config.format not in self.formats:
            raise ConfigError(
                f"{config.where}: format: the {self.name} publisher writes "
                f"{', '.join(self.formats)}, not {config.format!r}"
            )
        self._check_destination()

    @property
    def format(self) -> str:
        return self.config.format or self.formats[0]

    def _check_destination(self) -> None:
        scheme = urlsplit(self.config.destination).scheme
        if self.destination_kind == "url" and scheme not in ("http", "https"):
            raise ConfigError(
                f"{self.config.where}: destination: the {self.name} publisher posts to an "
                f"http(s):// URL, not {self.config.destination!r}"
            )
        if self.destination_kind == "folder" and scheme in ("http", "https"):
            raise ConfigError(
                f"{self.config.where}: destination: the {self.name} publisher writes to a "
                f"folder, not to {self.config.destination!r}"
            )

    # -- the stages ---------------------------------------------------------------------

    def write(self, connection: Connection, plan: Plan, folder: Path) -> Written:
        """Build the delivery's files in ``folder`` from the snapshot ``connection`` reads."""
        raise NotImplementedError(f"{type(self).__name__} must define write()")

    def deliver(self, delivery: Delivery) -> Acknowledgement:
        """Hand the files to the partner; its acknowledgement, or a DeliveryError."""
        raise NotImplementedError(f"{type(self).__name__} must define deliver()")

    # -- helpers for subclasses -----------------------------------------------------------

    def folder(self) -> Path:
        """The destination as a folder."""
        return Path(self.config.destination)

    def sender(self) -> Sender:
        """The hub's HTTP uploader for this partner, with its token when one is named."""
        token = self.config.token()
        sender = Sender(
            self.context.http_client(),
            self.context.settings.fetch,
            publisher=self.config.name,
            auth=BearerToken(token) if token else None,
            sleep=self.context.sleep,
        )
        self._senders.append(sender)
        return sender

    def drop(
        self,
        files: list[tuple[SpooledFile, str]],
        last: tuple[str, bytes] | None = None,
    ) -> None:
        """Copy spooled files into the destination folder under the given names, each one
        visible only once complete, then write ``last`` (a manifest) after all of them.

        A file already there with the right checksum (an earlier attempt) is left as is.
        """
        folder = self.folder()
        try:
            for file, name in files:
                target = folder / name
                if not (target.is_file() and file_sha256(target) == file.sha256):
                    atomic_copy(file.path, folder, name)
            if last is not None:
                atomic_write_bytes(folder, *last)
        except OSError as exc:
            raise RetriableDeliveryError(f"writing into {folder}: {exc}") from exc

    @property
    def retries(self) -> int:
        """Retries made by this publisher's uploads so far (for the ledger and metrics)."""
        return sum(sender.retries for sender in self._senders)


class SnapshotFilePublisher(Publisher):
    """A snapshot publisher that keeps one file up to date in a folder (map, open data).

    ``write`` builds the whole filtered offer as one file; ``deliver`` replaces it in the
    destination folder, atomically, under its name. The receipt is its SHA-256's start.
    """

    mode: ClassVar[Mode] = "snapshot"
    destination_kind: ClassVar[Literal["url", "folder"]] = "folder"

    def deliver(self, delivery: Delivery) -> Acknowledgement:
        self.drop([(file, file.name) for file in delivery.files])
        return Acknowledgement(delivery.files[0].sha256[:16], delivery.to_cursor)
