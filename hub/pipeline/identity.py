"""A formation's identity within one flow: (source, numero), once, of a sane length."""

from __future__ import annotations

from hub.errors import RecordError
from hub.lheo.record import FormationRecord

__all__ = ["MAX_NUMERO_LENGTH", "identity_problem"]

MAX_NUMERO_LENGTH = 128
"""The store's column width for ``numero``."""


def identity_problem(record: FormationRecord, seen: dict[str, int]) -> RecordError | None:
    """Why ``record`` cannot be stored under its numero (``seen``: numero → first line)."""
    if not record.numero:
        return None
    path = f"formation[@numero='{record.numero}']"
    if record.numero in seen:
        return RecordError(
            record.numero,
            record.line,
            path,
            f"duplicate numero in this flow (first at line {seen[record.numero]}); "
            "the first one is kept",
            stage="identity",
            file=record.file,
        )
    if len(record.numero) > MAX_NUMERO_LENGTH:
        return RecordError(
            record.numero[:40] + "…",
            record.line,
            path,
            f"numero longer than {MAX_NUMERO_LENGTH} characters",
            stage="identity",
            file=record.file,
        )
    return None
