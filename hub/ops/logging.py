"""Structured logs: one JSON object per line in production, readable lines in development.

`configure_logging` runs once at start-up (``hub serve`` calls it). The context a line
belongs to (``source``, ``flow_id``, ``stage``) is bound with `bound` and kept in context
variables, so every line logged inside that block carries it without passing it around; a
worker thread binds its own. Standard-library loggers (uvicorn, APScheduler, Alembic) go
through the same renderer, so one log stream has one format.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any, cast

import structlog
from structlog.typing import Processor

from hub.settings import LoggingSettings

__all__ = ["bound", "configure_logging", "get_logger"]

# Third-party loggers whose own handlers would print a second, differently formatted line.
_FOREIGN = ("uvicorn", "uvicorn.error", "uvicorn.access", "apscheduler", "alembic")


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]


def configure_logging(settings: LoggingSettings, *, stream: IO[str] | None = None) -> None:
    """Route structlog and the standard library through one handler on ``stream``.

    Calling it again replaces the previous configuration (the tests rely on this).
    """
    target = stream if stream is not None else sys.stderr
    renderer: Processor
    if settings.format == "json":
        renderer = structlog.processors.JSONRenderer()
        final: list[Processor] = [structlog.processors.format_exc_info, renderer]
    else:
        colors = bool(getattr(target, "isatty", lambda: False)())
        renderer = structlog.dev.ConsoleRenderer(colors=colors)
        final = [renderer]
    shared = _shared_processors()
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *final],
    )
    handler = logging.StreamHandler(target)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(settings.level)
    for name in _FOREIGN:
        foreign = logging.getLogger(name)
        foreign.handlers = []
        foreign.propagate = True
    # APScheduler reports every job start at INFO; the hub logs its own runs with context.
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, root.level))


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """The hub's logger for module ``name`` (``get_logger(__name__)``)."""
    return cast(structlog.stdlib.BoundLogger, structlog.get_logger(name))


@contextmanager
def bound(**context: Any) -> Iterator[None]:
    """Bind ``source``, ``flow_id``, ``stage``... to every line logged inside the block.

    ``None`` values are left out, so a caller can pass what it has without testing it.
    """
    values = {key: value for key, value in context.items() if value is not None}
    with structlog.contextvars.bound_contextvars(**values):
        yield
