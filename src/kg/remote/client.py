"""HTTP requests to the engine: retried with backoff while it cannot be reached, bounded by the
store timeout, and failures told in kg's terms (SyntaxError for a request the engine finds
invalid, OSError for an engine that cannot answer now, PermissionError for refused credentials).
"""

import socket
import time
import urllib.error
import urllib.request
from http.client import HTTPResponse
from typing import BinaryIO

from kg.remote.endpoints import Endpoints

#: Attempts of a request whose connection fails (refused, reset): 0.25 s, 0.5 s, 1 s, 2 s apart.
ATTEMPTS = 5
BACKOFF = 0.25
#: Bytes of an engine's error message kept in kg's.
MESSAGE_BYTES = 600


def post(
    endpoints: Endpoints,
    url: str,
    body: bytes | BinaryIO,
    content_type: str,
    accept: str | None = None,
    length: int | None = None,
    timeout: float | None = None,
) -> HTTPResponse:
    """The engine's answer to a POST, waited for `timeout` seconds (else the endpoints' read
    timeout); the caller reads and closes it. A file body is sent from where it is (never read
    whole) and sent again from its start when a retry needs it."""
    headers = {"Content-Type": content_type}
    if accept:
        headers["Accept"] = accept
    if endpoints.authorization:
        headers["Authorization"] = endpoints.authorization
    if length is not None:
        headers["Content-Length"] = str(length)
    for attempt in range(ATTEMPTS):
        if not isinstance(body, bytes):
            body.seek(0)
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            return urllib.request.urlopen(request, timeout=timeout or endpoints.timeout)
        except urllib.error.HTTPError as error:
            raise _refusal(url, error) from None
        except (urllib.error.URLError, ConnectionError) as error:
            reason = getattr(error, "reason", error)
            if isinstance(reason, TimeoutError | socket.timeout) or attempt == ATTEMPTS - 1:
                # A request that timed out may still be running: never sent twice.
                raise OSError(f"the SPARQL engine at {url} cannot be reached: {reason}") from None
            time.sleep(BACKOFF * 2**attempt)
    raise AssertionError("unreachable")


def _refusal(url: str, error: urllib.error.HTTPError) -> Exception:
    try:
        text = error.read(MESSAGE_BYTES).decode("utf-8", "replace").strip()
    except OSError:
        text = ""
    finally:
        error.close()
    text = text.split("SPARQL query:", 1)[0]  # Virtuoso's messages go on with the query sent
    said = f" ({' '.join(text.split())})" if text.strip() else ""
    if error.code in (400, 422):
        return SyntaxError(f"the SPARQL engine refused the request{said}")
    if error.code in (401, 403):
        return PermissionError(f"the SPARQL engine at {url} refused kg's credentials{said}")
    if error.code == 404:
        return OSError(f"no SPARQL service at {url} (404); set KG_STORE_QUERY_URL and the like")
    return OSError(f"the SPARQL engine at {url} answered {error.code}{said}")
