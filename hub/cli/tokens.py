"""``hub tokens``: create, revoke and list API tokens (push, admin, feed consumer keys).

A token is shown once, when created: the store keeps only its SHA-256
(:mod:`hub.store.tokens`), so a lost token is revoked and replaced, never recovered.
"""

from __future__ import annotations

from typing import Annotated

import typer

from hub.cli import common, render
from hub.cli.common import ConfigOption, open_store, reports_errors, say
from hub.errors import HubError
from hub.store.sources import ensure_source
from hub.store.tokens import Scope, create_token, list_tokens, revoke_tokens


@reports_errors
def tokens_create(
    source: Annotated[str | None, typer.Argument(help="Source the push token writes to")] = None,
    *,
    admin: Annotated[bool, typer.Option("--admin", help="An admin token instead")] = False,
    feed: Annotated[bool, typer.Option("--feed", help="A feed consumer key instead")] = False,
    region: Annotated[
        str | None, typer.Option(help="INSEE region code; creates the source if needed")
    ] = None,
    label: Annotated[str | None, typer.Option(help="Who or what the token is for")] = None,
    config: ConfigOption = None,
) -> None:
    """Create a token and print it once: only its SHA-256 is stored."""
    if sum((source is not None, admin, feed)) != 1:
        raise typer.BadParameter("give exactly one of SOURCE, --admin or --feed")
    settings, store = open_store(config)
    configured = getattr(settings, "sources", {}).get(source) if source else None
    region = region or (configured.region if configured is not None else None)
    if source is not None and region is not None:
        ensure_source(store.engine, source, region)
    scope: Scope = "admin" if admin else "feed" if feed else "push"
    issued = create_token(store.engine, scope, source=source, label=label)
    common.err.print(
        f"token {issued.token_id} ({scope}{f' for {source}' if source else ''}) — "
        "shown once, store it now:"
    )
    say(issued.token)


@reports_errors
def tokens_revoke(
    target: Annotated[str, typer.Argument(help="A token id (t_...) or a source name")],
    config: ConfigOption = None,
) -> None:
    """Revoke one token, or every live token of a source."""
    _, store = open_store(config)
    revoked = revoke_tokens(store.engine, target)
    if not revoked:
        raise HubError(
            f"no live token {target!r} and no source {target!r} with live tokens",
            hint="see `hub tokens list`",
        )
    common.out.print(f"revoked {', '.join(revoked)}")


@reports_errors
def tokens_list(
    all_: Annotated[bool, typer.Option("--all", help="Include revoked tokens")] = False,
    config: ConfigOption = None,
) -> None:
    """List tokens (ids, scopes, sources); secrets are never stored, so never shown."""
    _, store = open_store(config)
    common.out.print(render.tokens_table(list_tokens(store.engine, include_revoked=all_)))
