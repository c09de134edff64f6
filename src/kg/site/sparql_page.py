"""`/sparql` for people: when a browser asks (Accept prefers HTML, no `format`), an editor with
example queries, and the answer as a table. It is a plain form: it works without JavaScript, and
every query has a URL to share. Everyone else gets the SPARQL 1.1 Protocol (`sparql_routes`)."""

from urllib.parse import urlencode

import mimeparse
from fastapi import Request, Response

from kg.errors import KgError
from kg.server import sparql_routes
from kg.server.protocol import read_operation
from kg.server.sparql_routes import service_of
from kg.server.statuses import status_of
from kg.site.examples import EXAMPLES
from kg.site.results_table import READABLE, downloads, results_table
from kg.site.web import HTML, site_of

#: Types a SPARQL client accepts; text/html first, so that it wins only when preferred.
PROTOCOL_TYPES = [
    "text/html",
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "text/csv",
    "text/tab-separated-values",
    "text/turtle",
    "application/n-triples",
    "application/ld+json",
    "application/rdf+xml",
    "application/json",
    "application/xml",
]


def prefers_html(accept: str | None) -> bool:
    if not accept or "html" not in accept:
        return False  # what protocol clients send, decided without parsing on the query path
    try:
        return mimeparse.best_match(PROTOCOL_TYPES, accept or "*/*") == "text/html"
    except (mimeparse.MimeTypeParseException, ValueError):
        return False


async def sparql_get(request: Request) -> Response:
    if request.query_params.get("format") or not prefers_html(request.headers.get("accept")):
        return await sparql_routes.sparql_get(request)
    service = service_of(request)
    operation = await read_operation(request, service.settings.max_body)
    context = {
        "title": "SPARQL",
        "breadcrumbs": [("SPARQL", None)],
        "examples": [(title, "/sparql?" + urlencode({"query": q})) for title, q in EXAMPLES],
        "query": EXAMPLES[0][1] if operation is None else operation.text,
        "table": None,
        "error": None,
        "downloads": [],
    }
    status = 200
    if operation is not None:
        context["title"] = "SPARQL: results"
        try:
            served = await sparql_routes.until_disconnected(
                request, service.query(operation, READABLE)
            )
            context["table"] = results_table(served)
            context["downloads"] = downloads(
                context["table"]["kind"], "/sparql", {"query": operation.text}
            )
        except KgError as error:
            status = status_of(error)
            context["error"] = str(error)
    body = site_of(request).renderer.page("sparql.html", **context)
    return Response(body, status_code=status, media_type=HTML, headers={"Vary": "Accept"})
