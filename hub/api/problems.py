"""RFC 9457 problem details: every refusal says what, where and what to do."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from hub.errors import (
    ArchiveError,
    AuthError,
    FlowError,
    HubError,
    LheoError,
    UnsafeXmlError,
)

PROBLEM_JSON = "application/problem+json"


def problem(
    status: int, title: str, detail: str, *, type_: str = "about:blank", **extra: Any
) -> JSONResponse:
    body = {"type": type_, "title": title, "status": status, "detail": detail}
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def _status_of(exc: HubError) -> tuple[int, str]:
    if isinstance(exc, UnsafeXmlError):
        return 400, "unsafe-xml"
    if isinstance(exc, LheoError):
        return 422 if exc.line is None else 400, "invalid-lheo"
    if isinstance(exc, AuthError):
        return 403, "forbidden"
    if isinstance(exc, ArchiveError):
        return 507, "archive-unavailable"
    if isinstance(exc, FlowError):
        return 409, "flow-refused"
    return 500, "hub-error"


async def hub_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HubError)
    status, kind = _status_of(exc)
    line = getattr(exc, "line", None)
    path = getattr(exc, "path", None)
    return problem(
        status,
        type(exc).__name__,
        str(exc),
        type_=f"https://lheo-hub.example/problems/{kind}",
        instance=str(request.url.path),
        line=line,
        element=path,
        hint=exc.hint or None,
    )
