"""Which dialect reads a source's flows, and the limits its snapshots are held to.

A flow records the connector whose dialect reads its files (None for plain LHEO pushes);
the dialect is built from the source's *current* configuration, so a replay after a table
or configuration fix reads the archived bytes the fixed way.
"""

from __future__ import annotations

from connectors.registry import connector_class
from hub.lheo.dialect import Dialect
from hub.pipeline.read import Policy
from hub.settings import Settings

__all__ = ["Policy", "policy_for"]


def policy_for(
    settings: Settings | None, source: str, connector: str | None, region: str | None
) -> Policy:
    """The policy of ``source``'s flows read by ``connector`` (plain LHEO when None)."""
    settings = settings or Settings()
    configured = settings.sources.get(source)
    if connector is None:
        dialect = Dialect()
    else:
        dialect = connector_class(connector, source=configured).dialect(
            configured, region=region, limits=settings.fetch
        )
    share = settings.ingest.hold_deletions_share
    minimum = settings.ingest.hold_deletions_min
    if configured is not None:
        if configured.hold_deletions_share is not None:
            share = configured.hold_deletions_share
        if configured.hold_deletions_min is not None:
            minimum = configured.hold_deletions_min
    return Policy(
        dialect=dialect,
        assume_encoding=configured.assume_encoding if configured is not None else None,
        hold_share=share,
        hold_min=minimum,
    )
