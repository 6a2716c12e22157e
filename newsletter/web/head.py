"""HEAD answered wherever GET is, as HTTP asks and uptime monitors expect.

FastAPI's routes answer HEAD with 405. Rather than declare HEAD beside every GET, a HEAD request
is served as the GET it stands for and its body is dropped here, whatever server runs the app;
status and headers (Content-Length included) are those the GET would have.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    """Pure ASGI: only the method seen by the app and the body sent back change."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)
