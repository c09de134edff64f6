"""A structured access log: one JSON object per request on the `kg.access` logger."""

import json
import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger("kg.access")


class AccessLog:
    """Pure ASGI middleware (no per-request task, unlike BaseHTTPMiddleware): it times the
    request, notes status, size and cache use, and logs once the response is sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not logger.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        record = {"status": 500, "bytes": 0, "cache": None}

        async def send_and_note(message: Message) -> None:
            if message["type"] == "http.response.start":
                record["status"] = message["status"]
                for name, value in message.get("headers", []):
                    if name == b"x-cache":
                        record["cache"] = value.decode()
            elif message["type"] == "http.response.body":
                record["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            client = scope.get("client")
            entry = {
                "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "client": client[0] if client else None,
                "method": scope["method"],
                "path": scope["path"],
                "query_bytes": len(scope.get("query_string", b"")),
                "status": record["status"],
                "bytes": record["bytes"],
                "ms": round((time.perf_counter() - started) * 1000, 2),
            }
            if record["cache"]:
                entry["cache"] = record["cache"]
            logger.info(json.dumps(entry))
