"""Who may do what: API tokens, their verification, and the refusals that follow.

A token reads ``lhub_<id>_<secret>``: the id is public (it names the token in listings,
logs and ``hub tokens revoke``), the secret is 256 random bits. The store keeps only the
SHA-256 of the whole token. A slow password hash (bcrypt, argon2) protects guessable
passwords; a 256-bit random secret cannot be guessed, so one SHA-256 is as safe here and
keeps each request's check cheap. Verification looks the row up by its public id, then
compares digests with ``hmac.compare_digest`` so timing says nothing about the secret.

Scopes: ``push`` (writes to one source), ``admin`` (sync now, replay, tokens) and ``feed``
(a consumer key, when the feed is not public). Every refusal is logged with who (token id
or ``anonymous``, client address), what (method, path, source) and why; never the token.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import structlog
from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, insert, or_, select, update

from hub.api.problems import problem
from hub.errors import AuthError
from hub.settings import Settings
from hub.store.db import write_transaction
from hub.store.models import Source, Token, utcnow

Scope = Literal["push", "admin", "feed"]
SCOPES: tuple[Scope, ...] = ("push", "admin", "feed")
TOKEN_PREFIX = "lhub_"
_TOKEN_SHAPE = re.compile(r"^lhub_(t_[0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
_UNKNOWN_DIGEST = hashlib.sha256(b"no such token").hexdigest()

TOKENS = Token.__table__  # type: ignore[attr-defined]
SOURCES = Source.__table__  # type: ignore[attr-defined]


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
    shape = _TOKEN_SHAPE.match(presented)
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


class AccessRefused(AuthError):
    """A request refused for who it is (401) or what it asked (403); rendered as a problem."""

    def __init__(self, status: int, title: str, detail: str, *, hint: str | None = None) -> None:
        super().__init__(detail, hint=hint)
        self.status = status
        self.title = title
        self.detail = detail


def log_refusal(
    request: Request,
    status: int,
    reason: str,
    *,
    who: str = "anonymous",
    source: str | None = None,
    **context: object,
) -> None:
    """Say who was refused what and why; callers never pass the token itself."""
    client = request.client.host if request.client else None
    structlog.get_logger("hub.access").warning(
        "request refused",
        status=status,
        who=who,
        client=client,
        method=request.method,
        path=request.url.path,
        source=source,
        reason=reason,
        **context,
    )


def refuse(
    request: Request,
    status: int,
    title: str,
    detail: str,
    *,
    who: str = "anonymous",
    source: str | None = None,
    hint: str | None = None,
) -> AccessRefused:
    """Log a refusal and return the exception that answers it."""
    log_refusal(request, status, detail, who=who, source=source)
    return AccessRefused(status, title, detail, hint=hint)


async def access_refused_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AccessRefused)
    response = problem(
        exc.status,
        exc.title,
        exc.detail,
        type_=f"https://lheo-hub.example/problems/{exc.title.lower().replace(' ', '-')}",
        instance=request.url.path,
        hint=exc.hint or None,
    )
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="lheo-hub"'
    return response


def bearer(request: Request) -> str | None:
    """The bearer credential of the request, if it sent one."""
    scheme, _, credential = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return credential.strip() or None


def authenticate(request: Request, *, source: str | None = None) -> Principal:
    """The request's principal, or a logged 401 naming what was missing or wrong."""
    presented = bearer(request)
    if presented is None:
        raise refuse(
            request,
            401,
            "Unauthorized",
            "no bearer token: send `Authorization: Bearer <token>`",
            source=source,
        )
    principal = verify(request.app.state.store.engine, presented)
    if principal is None:
        shape = _TOKEN_SHAPE.match(presented)
        log_refusal(
            request,
            401,
            "unknown or revoked token",
            source=source,
            claimed_token_id=shape.group(1) if shape else None,
        )
        raise AccessRefused(
            401,
            "Unauthorized",
            "unknown or revoked token",
            hint="ask the hub's operators for a token (`hub tokens create`)",
        )
    return principal


def require_admin(request: Request) -> Principal:
    """FastAPI dependency for admin actions (sync now, replay, tokens): the admin token only."""
    principal = authenticate(request)
    if principal.scope != "admin":
        raise refuse(
            request,
            403,
            "Forbidden",
            f"token {principal.token_id} ({principal.scope}) may not perform admin actions",
            who=principal.token_id,
        )
    return principal


def require_push(request: Request, source: str) -> Principal:
    """FastAPI dependency for ``/v1/push/{source}``: that source's push token, nothing else."""
    principal = authenticate(request, source=source)
    if principal.scope != "push" or principal.source != source:
        owner = f"source {principal.source!r}" if principal.source else principal.scope
        raise refuse(
            request,
            403,
            "Forbidden",
            f"token {principal.token_id} belongs to {owner}: it may not push to {source!r}",
            who=principal.token_id,
            source=source,
        )
    return principal


def _feed_key_index(settings: Settings, presented: str) -> int | None:
    """Which of the configured consumer keys matches, comparing every key in constant time."""
    keys = [k.strip() for k in os.environ.get(settings.api.feed_keys_env, "").split(",")]
    found = None
    for index, key in enumerate(keys):
        if key and hmac.compare_digest(key.encode(), presented.encode()):
            found = index
    return found


def require_feed_access(request: Request) -> Principal | None:
    """FastAPI dependency on the feed: nobody when public, else a consumer key or token."""
    settings: Settings = request.app.state.settings
    if settings.api.feed_public:
        return None
    presented = bearer(request)
    if presented is not None and (index := _feed_key_index(settings, presented)) is not None:
        return Principal(f"{settings.api.feed_keys_env}#{index}", "feed")
    principal = authenticate(request)
    if principal.scope not in ("feed", "admin"):
        raise refuse(
            request,
            403,
            "Forbidden",
            f"token {principal.token_id} ({principal.scope}) is not a feed consumer key",
            who=principal.token_id,
        )
    return principal


__all__ = [
    "SCOPES",
    "AccessRefused",
    "IssuedToken",
    "Principal",
    "TokenInfo",
    "access_refused_handler",
    "create_token",
    "list_tokens",
    "log_refusal",
    "require_admin",
    "require_feed_access",
    "require_push",
    "revoke_tokens",
    "verify",
]
