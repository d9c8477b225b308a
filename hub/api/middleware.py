"""Request counting for ``/metrics``: feed and push requests and the bytes they move."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.ops import metrics

__all__ = ["RequestMetrics"]


class RequestMetrics:
    """ASGI middleware counting feed and push requests and the bytes they move.

    Pure ASGI (not ``BaseHTTPMiddleware``) so streamed feed responses are counted as they
    are sent, without being buffered. Labels stay bounded: the feed endpoint's last path
    segment, and the push source only once the request got past authentication.
    """

    FEED_ENDPOINTS = ("lheo", "changes", "geojson", "csv")

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith(("/v1/feed/", "/v1/push/")):
            await self.app(scope, receive, send)
            return
        seen = {"status": 500, "request": 0, "response": 0}

        async def counting_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                seen["request"] += len(message.get("body", b""))
            return message

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = int(message["status"])
            elif message["type"] == "http.response.body":
                seen["response"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, counting_receive, counting_send)
        finally:
            self._observe(path, scope, seen)

    def _observe(self, path: str, scope: Scope, seen: dict[str, int]) -> None:
        status = seen["status"]
        if path.startswith("/v1/feed/"):
            endpoint = path.removeprefix("/v1/feed/").split("/")[0]
            endpoint = endpoint if endpoint in self.FEED_ENDPOINTS else "other"
            metrics.observe_feed(endpoint, status, seen["response"])
            return
        source = str(scope.get("path_params", {}).get("source", "unknown"))
        if status in (401, 403, 404):  # unauthenticated names must not mint label values
            source = "unknown"
        metrics.observe_push(source, status, seen["request"], seen["response"])
