"""Time safety: a flow never makes the store older than what later flows already said.

Flows of one source are ordered by ``as_of``: when their content was true (the time they
were received; a replay keeps its original's). A flow applied late — a replay, a flow a
crash left ``received``, a push that waited for the lock behind a newer one — must leave
alone every formation that a newer applied flow of its source *mentioned*: upserted,
deleted, rejected or left unchanged. So the guard is the set of numeros the newer flows
mention, read from their archived files through the source's dialect.

A newer applied snapshot mentions everything (what it lacks it deleted), so a flow older
than one is *superseded*: applying it could change nothing safely.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection

from hub.errors import FlowSuperseded
from hub.store.flows import FlowRow, later_applied

__all__ = ["Guard", "guard_for"]


@dataclass(frozen=True, slots=True)
class Guard:
    """The numeros a late flow must not touch, and the newer flows that named them."""

    numeros: frozenset[str] = frozenset()
    later: tuple[str, ...] = ()

    def protects(self, numero: str | None) -> bool:
        return numero is not None and numero in self.numeros


NONE = Guard()

Mentions = Callable[[FlowRow], set[str]]
"""Reads the numeros a flow mentions (formations and deletions) from its archived files."""


def guard_for(connection: Connection, flow: FlowRow, mentions: Mentions) -> Guard:
    """What ``flow`` must leave alone, read inside the applying transaction.

    Call it once the change sequence is locked: every flow applied before is visible and
    none can be applied meanwhile. Raises :class:`FlowSuperseded` past a newer snapshot.
    """
    later = later_applied(connection, flow)
    if not later:
        return NONE
    snapshot = next((other for other in later if other.kind == "snapshot"), None)
    if snapshot is not None:
        raise FlowSuperseded(
            f"flow {flow.id} of {flow.source!r} is older than snapshot {snapshot.id}, "
            "applied since: that snapshot already says what the source holds",
            by=snapshot.id,
        )
    numeros: set[str] = set()
    for other in later:
        numeros |= mentions(other)
    return Guard(frozenset(numeros), tuple(other.id for other in later))
