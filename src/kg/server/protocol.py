"""Reading a SPARQL 1.1 Protocol request: which operation, on which dataset, in which format.

Queries come by GET (`?query=`), by a URL-encoded form POST, or POSTed directly as
`application/sparql-query`; updates by form POST (`update=`) or as `application/sparql-update`.
Parameters of the URL and of a form body are read together, as the protocol's tests send them.
"""

from dataclasses import dataclass
from enum import Enum
from urllib.parse import parse_qsl

from starlette.requests import ClientDisconnect, Request

FORM = "application/x-www-form-urlencoded"
QUERY_TYPE = "application/sparql-query"
UPDATE_TYPE = "application/sparql-update"
#: Parameters a request may have (URL and form together count separately): a protocol request
#: has a handful, and parsing a megabyte of empty ones would hold the event loop.
MAX_PARAMETERS = 1000


class Verb(Enum):
    QUERY = "query"
    UPDATE = "update"


#: The parameters naming the default graphs and the named graphs of the dataset, per verb.
DATASET_PARAMETERS = {
    Verb.QUERY: ("default-graph-uri", "named-graph-uri"),
    Verb.UPDATE: ("using-graph-uri", "using-named-graph-uri"),
}


class ProtocolError(Exception):
    """A request the endpoint answers with an HTTP error status and a short message."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


@dataclass(frozen=True)
class Operation:
    verb: Verb
    text: str
    #: default-graph-uri for a query, using-graph-uri for an update.
    default_graphs: tuple[str, ...]
    #: named-graph-uri for a query, using-named-graph-uri for an update.
    named_graphs: tuple[str, ...]
    format_name: str | None

    @property
    def has_dataset(self) -> bool:
        return bool(self.default_graphs or self.named_graphs)


async def read_operation(request: Request, max_body: int) -> Operation | None:
    """The operation a request asks for; None for a GET without one (the service description)."""
    if len(request.url.query) > max_body:  # a query in the URL gets the body's limit
        raise ProtocolError(414, f"request URL over the limit of {max_body} bytes: POST the query")
    params = _parse_params(request.url.query)
    if request.method in ("GET", "HEAD"):
        if _values(params, "update"):
            raise ProtocolError(400, "updates must be sent with POST, not GET")
        return _operation(params, Verb.QUERY, None) if _values(params, "query") else None
    media_type, charset = _content_type(request)
    if media_type == FORM:
        body = _decode(await read_body(request, max_body))
        params += _parse_params(body)
        has_query, has_update = bool(_values(params, "query")), bool(_values(params, "update"))
        if has_query == has_update:
            raise ProtocolError(400, "a form POST needs exactly one of 'query' or 'update'")
        return _operation(params, Verb.QUERY if has_query else Verb.UPDATE, None)
    if media_type in (QUERY_TYPE, UPDATE_TYPE):
        if charset and charset.lower() not in ("utf-8", "utf8"):
            raise ProtocolError(415, f"{media_type} must be UTF-8, not {charset}")
        text = _decode(await read_body(request, max_body))
        verb = Verb.QUERY if media_type == QUERY_TYPE else Verb.UPDATE
        return _operation(params, verb, text)
    raise ProtocolError(
        415,
        f"unsupported Content-Type {media_type or '(none)'!r}: send {FORM}, "
        f"{QUERY_TYPE} or {UPDATE_TYPE}",
    )


def _operation(params: list[tuple[str, str]], verb: Verb, text: str | None) -> Operation:
    if text is None:
        texts = _values(params, verb.value)
        if len(texts) != 1:
            raise ProtocolError(400, f"give exactly one '{verb.value}' parameter, not {len(texts)}")
        text = texts[0]
    formats = _values(params, "format")
    if len(formats) > 1:
        raise ProtocolError(400, "give at most one 'format' parameter")
    return Operation(
        verb,
        text,
        tuple(_values(params, DATASET_PARAMETERS[verb][0])),
        tuple(_values(params, DATASET_PARAMETERS[verb][1])),
        formats[0] if formats else None,
    )


def _parse_params(encoded: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(
            encoded, keep_blank_values=True, errors="strict", max_num_fields=MAX_PARAMETERS
        )
    except UnicodeDecodeError as error:
        raise ProtocolError(400, f"a parameter is not UTF-8 once decoded: {error}") from None
    except ValueError:  # more fields than MAX_PARAMETERS: refused before parsing any
        raise ProtocolError(400, f"more than {MAX_PARAMETERS} parameters") from None


def _values(params: list[tuple[str, str]], name: str) -> list[str]:
    return [value for key, value in params if key == name]


def _content_type(request: Request) -> tuple[str, str | None]:
    header = request.headers.get("content-type", "")
    media_type, *parameters = (part.strip() for part in header.split(";"))
    charset = None
    for parameter in parameters:
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip('"')
    return media_type.lower(), charset


async def read_body(request: Request, max_body: int) -> bytes:
    """The request body, or 413 as soon as it is known to exceed `max_body` bytes; 499 (logged,
    never sent) if the client leaves before sending all of it."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_body:
        raise _too_large(max_body)
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_body:
                raise _too_large(max_body)
            chunks.append(chunk)
    except ClientDisconnect:
        raise ProtocolError(499, "the client closed the connection during the body") from None
    return b"".join(chunks)


def _too_large(max_body: int) -> ProtocolError:
    return ProtocolError(413, f"request body over the limit of {max_body} bytes")


def _decode(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ProtocolError(400, f"the request body is not UTF-8: {error}") from None
