"""The HTTP server of `kg serve`: uvicorn, with time and number limits on connections.

uvicorn closes a kept-alive connection `keep_alive` seconds after its last answer, and answers 503
(and closes the connection) to a request that arrives while `limit_concurrency` connections or
requests are open. It has no limit on the time a client may take to send a request's headers, so
`HeaderDeadlineProtocol` adds one: a connection that has not sent a complete request line and
headers `header_timeout` seconds after it opened (or after the first byte of a later request on a
kept-alive connection) is closed, and one whose request line and headers pass `MAX_HEADER_BYTES`
is answered 431 and closed (httptools sets no such limit: a 100 MiB header would be joined, slowly,
on the event loop). The body's own deadline is the application's (`BodyDeadline`).
"""

import asyncio
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from kg.server.app import create_app
from kg.settings import Settings

#: Seconds the server waits for running requests when it is asked to stop.
GRACEFUL_SHUTDOWN = 5
#: Bytes a request line and its headers may have together.
MAX_HEADER_BYTES = 64 * 1024
_HEADERS_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-type: text/plain; charset=utf-8\r\nconnection: close\r\n"
    b"content-length: %d\r\n\r\n%s"
)


class ServerConfig(uvicorn.Config):
    """uvicorn's configuration, with the time a client has to send a request's headers."""

    def __init__(self, app: Any, *, header_timeout: float, **options: Any) -> None:
        super().__init__(app, http=HeaderDeadlineProtocol, **options)
        self.header_timeout = header_timeout


class HeaderDeadlineProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, closing connections whose request headers come too late."""

    def __init__(self, config: ServerConfig, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.header_timeout = config.header_timeout
        self.header_deadline: asyncio.TimerHandle | None = None
        self.header_bytes = 0
        self.header_tail = b""  # the last bytes read, where a header's end may have begun

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_header_deadline()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._start_header_deadline()  # kept from connection_made for the first request

    def data_received(self, data: bytes) -> None:
        if self.header_deadline is not None:  # the headers are still coming
            # Count up to the blank line that ends them: body bytes in the same read are not.
            window = self.header_tail + data
            end = window.find(b"\r\n\r\n")
            self.header_bytes += len(data) if end < 0 else max(0, end + 4 - len(self.header_tail))
            if self.header_bytes > MAX_HEADER_BYTES:
                self._refuse_headers()
                return
            self.header_tail = window[-3:]
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._cancel_header_deadline()
        self.header_bytes, self.header_tail = 0, b""
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_deadline()
        super().connection_lost(exc)

    def _start_header_deadline(self) -> None:
        if self.header_deadline is None:
            self.header_deadline = self.loop.call_later(self.header_timeout, self._headers_late)

    def _cancel_header_deadline(self) -> None:
        if self.header_deadline is not None:
            self.header_deadline.cancel()
            self.header_deadline = None

    def _refuse_headers(self) -> None:
        self._cancel_header_deadline()
        if not self.transport.is_closing():
            message = f"request line and headers over {MAX_HEADER_BYTES} bytes\n".encode()
            self.transport.write(_HEADERS_TOO_LARGE % (len(message), message))
            self.transport.close()

    def _headers_late(self) -> None:
        self.header_deadline = None
        if not self.transport.is_closing():
            self.transport.close()


def build_server(settings: Settings) -> uvicorn.Server:
    """The server of `create_app(settings)`, ready to `run()`."""
    config = ServerConfig(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        header_timeout=settings.header_timeout,
        timeout_keep_alive=settings.keep_alive,
        # uvicorn answers 503 once open connections (this one included) or running requests
        # reach its limit: one more than the connections served.
        limit_concurrency=settings.max_connections + 1,
        access_log=False,  # kg's own access log is structured (kg.server.access_log)
        proxy_headers=False,  # bound to loopback by default: no proxy to trust
        server_header=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN,
    )
    return uvicorn.Server(config)
