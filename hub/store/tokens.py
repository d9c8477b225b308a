"""API tokens: create, list, revoke, and verify one in constant time.

A token reads ``lhub_<id>_<secret>``: the id is public (it names the token in listings,
logs and ``hub tokens revoke``), the secret is 256 random bits. The store keeps only the
SHA-256 of the whole token. A slow password hash (bcrypt, argon2) protects guessable
passwords; a 256-bit random secret cannot be guessed, so one SHA-256 is as safe here and
keeps each request's check cheap. Verification looks the row up by its public id, then
compares digests with ``hmac.compare_digest`` so timing says nothing about the secret.

Scopes: ``push`` (writes to one source), ``admin`` (sync now, replay, tokens) and ``feed``
(a consumer key, when the feed is not public). The web side (:mod:`hub.api.auth`) asks
:func:`verify` who a request is.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import Engine, insert, or_, select, update

from hub.errors import AuthError
from hub.store.db import write_transaction
from hub.store.models import utcnow
from hub.store.tables import SOURCES, TOKENS

Scope = Literal["push", "admin", "feed"]
SCOPES: tuple[Scope, ...] = ("push", "admin", "feed")
TOKEN_PREFIX = "lhub_"
TOKEN_SHAPE = re.compile(r"^lhub_(t_[0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
_UNKNOWN_DIGEST = hashlib.sha256(b"no such token").hexdigest()


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request is: the token that authenticated it (never its secret)."""

    token_id: str
    scope: Scope
    source: str | None = None


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A freshly created token: ``token`` is shown once and never stored."""

    token_id: str
    scope: Scope
    source: str | None
    token: str


@dataclass(frozen=True, slots=True)
class TokenInfo:
    token_id: str
    scope: str
    source: str | None
    label: str | None
    created_at: datetime
    revoked_at: datetime | None


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(
    engine: Engine, scope: Scope, *, source: str | None = None, label: str | None = None
) -> IssuedToken:
    """Create a token; a push token needs the source it writes to (which must exist)."""
    if scope not in SCOPES:
        raise AuthError(f"unknown token scope {scope!r}", hint=f"use one of {', '.join(SCOPES)}")
    if (scope == "push") != (source is not None):
        raise AuthError("a push token names exactly one source; admin and feed tokens none")
    token_id = f"t_{secrets.token_hex(6)}"
    token = f"{TOKEN_PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
    with write_transaction(engine) as connection:
        if source is not None:
            known = connection.execute(select(SOURCES.c.name).where(SOURCES.c.name == source))
            if known.first() is None:
                raise AuthError(
                    f"unknown source {source!r}",
                    hint="create it with `hub tokens create SOURCE --region CODE`",
                )
        connection.execute(
            insert(TOKENS).values(
                id=token_id,
                scope=scope,
                source=source,
                secret_sha256=digest(token),
                label=label,
                created_at=utcnow(),
            )
        )
    return IssuedToken(token_id, scope, source, token)


def revoke_tokens(engine: Engine, target: str) -> list[str]:
    """Revoke one token by id, or every live token of a source; returns the ids revoked."""
    with write_transaction(engine) as connection:
        live = TOKENS.c.revoked_at.is_(None)
        ids = list(
            connection.execute(
                select(TOKENS.c.id).where(
                    live, or_(TOKENS.c.id == target, TOKENS.c.source == target)
                )
            ).scalars()
        )
        if ids:
            connection.execute(
                update(TOKENS).where(TOKENS.c.id.in_(ids)).values(revoked_at=utcnow())
            )
    return ids


def list_tokens(engine: Engine, *, include_revoked: bool = False) -> list[TokenInfo]:
    """Every token's public facts, oldest first; secrets are not stored, so never shown."""
    query = select(
        TOKENS.c.id,
        TOKENS.c.scope,
        TOKENS.c.source,
        TOKENS.c.label,
        TOKENS.c.created_at,
        TOKENS.c.revoked_at,
    ).order_by(TOKENS.c.created_at, TOKENS.c.id)
    if not include_revoked:
        query = query.where(TOKENS.c.revoked_at.is_(None))
    with engine.connect() as connection:
        return [TokenInfo(*row) for row in connection.execute(query)]


def verify(engine: Engine, presented: str) -> Principal | None:
    """The principal of a live token, or None for anything else, in constant-time compare."""
    shape = TOKEN_SHAPE.match(presented)
    token_id = shape.group(1) if shape else ""
    row = None
    if shape:
        with engine.connect() as connection:
            row = connection.execute(
                select(
                    TOKENS.c.scope, TOKENS.c.source, TOKENS.c.secret_sha256, TOKENS.c.revoked_at
                ).where(TOKENS.c.id == token_id)
            ).first()
    stored = row.secret_sha256 if row is not None else _UNKNOWN_DIGEST
    matches = hmac.compare_digest(stored, digest(presented))
    if row is None or not matches or row.revoked_at is not None:
        return None
    return Principal(token_id, row.scope, row.source)
