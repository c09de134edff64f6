"""`/sparql` for people: when a browser asks (Accept prefers HTML, no `format`), an editor with
example queries, and the answer as a table. It is a plain form: it works without JavaScript, and
every query has a URL to share. Everyone else gets the SPARQL 1.1 Protocol (`sparql_routes`)."""

import json
from pathlib import Path
from urllib.parse import urlencode

import mimeparse
from fastapi import Request, Response
from pyoxigraph import RdfFormat, parse

from kg.errors import KgError
from kg.server import sparql_routes
from kg.server.protocol import read_operation
from kg.server.service import Served
from kg.server.sparql_routes import service_of
from kg.server.statuses import status_of
from kg.site.examples import EXAMPLES
from kg.site.web import HTML, site_of

#: Rows a results table shows at most (the downloads have them all, up to the server's cap).
SHOWN_ROWS = 1000
#: What the page asks the query for: solutions and booleans as JSON, graphs as N-Triples.
READABLE = "application/sparql-results+json, application/n-triples;q=0.9"
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
            context["table"] = _table(served)
            context["downloads"] = _downloads(operation.text, context["table"]["kind"])
        except KgError as error:
            status = status_of(error)
            context["error"] = str(error)
    body = site_of(request).renderer.page("sparql.html", **context)
    return Response(body, status_code=status, media_type=HTML, headers={"Vary": "Accept"})


def _table(served: Served) -> dict:
    answer = served.answer
    if answer.file is not None:  # too large for a page: the downloads have it
        Path(answer.file).unlink(missing_ok=True)
        return {"kind": "large", "size": answer.size}
    if answer.media_type.startswith("application/n-triples"):
        triples = list(parse(answer.body, RdfFormat.N_TRIPLES))
        rows = [
            [_cell(t) for t in (q.subject, q.predicate, q.object)] for q in triples[:SHOWN_ROWS]
        ]
        return {
            "kind": "graph",
            "head": ["subject", "predicate", "object"],
            "rows": rows,
            "total": len(triples),
            "truncated": answer.truncated,
        }
    data = json.loads(answer.body)
    if "boolean" in data:
        return {"kind": "boolean", "value": data["boolean"]}
    names = data["head"]["vars"]
    bindings = data["results"]["bindings"]
    rows = [[_json_cell(b.get(n)) for n in names] for b in bindings[:SHOWN_ROWS]]
    return {
        "kind": "solutions",
        "head": names,
        "rows": rows,
        "total": len(bindings),
        "truncated": answer.truncated,
    }


def _cell(term) -> dict:
    kind = type(term).__name__
    if kind == "NamedNode":
        return {"iri": term.value}
    if kind == "Literal":
        return {"text": term.value, "lang": term.language}
    return {"text": str(term)}


def _json_cell(value: dict | None) -> dict | None:
    if value is None:
        return None
    if value["type"] == "uri":
        return {"iri": value["value"]}
    return {"text": value["value"], "lang": value.get("xml:lang")}


def _downloads(query: str, kind: str) -> list[tuple[str, str]]:
    formats = {
        "solutions": [("JSON", "json"), ("CSV", "csv"), ("TSV", "tsv"), ("XML", "xml")],
        "boolean": [("JSON", "json"), ("XML", "xml")],
        "graph": [
            ("Turtle", "turtle"),
            ("N-Triples", "ntriples"),
            ("JSON-LD", "jsonld"),
            ("RDF/XML", "rdfxml"),
        ],
    }.get(kind, [("JSON", "json"), ("CSV", "csv"), ("Turtle", "turtle")])
    return [(name, "/sparql?" + urlencode({"query": query, "format": f})) for name, f in formats]
