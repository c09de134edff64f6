"""A deadline for request bodies: one sent too slowly is answered 408 and its connection closed.

A pure ASGI middleware wraps `receive`: until the body's last part has come, each wait for more
ends at the deadline with ProtocolError(408), which the handler reading the body passes on like
any protocol error. Waits after the body (a handler watching for a disconnect) have no deadline.
"""

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kg.server.protocol import ProtocolError


class BodyDeadline:
    """Gives each HTTP request's body `seconds` to arrive, counted from its headers."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline = asyncio.get_running_loop().time() + self.seconds
        body_complete = False

        async def receive_in_time() -> Message:
            nonlocal body_complete
            if body_complete:
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise ProtocolError(
                    408,
                    f"the request body did not arrive within {self.seconds:g} s",
                    {"Connection": "close"},  # the rest of the body is not worth waiting for
                ) from None
            body_complete = message["type"] != "http.request" or not message.get("more_body")
            return message

        await self.app(scope, receive_in_time, send)
