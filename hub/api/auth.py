"""Who may do what over HTTP: the bearer token of each request, and the refusals that follow.

Tokens themselves (their shape, storage and constant-time check) are the store's
(:mod:`hub.store.tokens`). Every refusal is logged with who (token id or ``anonymous``,
client address), what (method, path, source) and why; never the token.
"""

from __future__ import annotations

import hmac
import os

import structlog
from fastapi import Request
from fastapi.responses import JSONResponse

from hub.api.problems import problem
from hub.errors import AccessRefused
from hub.settings import Settings
from hub.store.tokens import TOKEN_SHAPE, Principal, verify


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
        shape = TOKEN_SHAPE.match(presented)
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
    "access_refused_handler",
    "log_refusal",
    "require_admin",
    "require_feed_access",
    "require_push",
]
