"""`/queries` and `/queries/SLUG`: the named queries as pages and as an API.

A browser (Accept prefers HTML, no `format`) gets a page: the question, a form for the
parameters, the SPARQL text, a link that opens it in the SPARQL editor, and the answer as a table.
Everyone else gets the answer itself, negotiated as on `/sparql` (SPARQL JSON, XML, CSV, TSV, or
`format=`), through the same path: cache, ETag/304, time limit, row cap.
"""

import json
from urllib.parse import urlencode

from fastapi import Request, Response

from kg.errors import KgError
from kg.named_queries import NamedQuery, ParameterError
from kg.server import sparql_routes
from kg.server.protocol import Operation, ProtocolError, Verb
from kg.server.sparql_routes import service_of
from kg.server.statuses import status_of
from kg.site.results_table import READABLE, downloads, results_table
from kg.site.sparql_page import prefers_html
from kg.site.web import HTML, Site, site_of

#: Query-string parameters that are not the query's own.
RESERVED = {"format"}


async def query_list(request: Request) -> Response:
    site = site_of(request)
    if request.query_params.get("format") == "json" or not prefers_html(
        request.headers.get("accept")
    ):
        listing = [_describe(site, named) for named in site.queries.values()]
        body = json.dumps({"queries": listing}, ensure_ascii=False, indent=1).encode()
        return Response(body, media_type="application/json", headers={"Vary": "Accept"})
    body = site.renderer.page(
        "queries.html",
        title="Named queries",
        breadcrumbs=[("Queries", None)],
        queries=list(site.queries.values()),
    )
    return Response(body, media_type=HTML, headers={"Vary": "Accept"})


def _describe(site: Site, named: NamedQuery) -> dict:
    return {
        "name": named.slug,
        "title": named.title,
        "question": named.question,
        "url": f"/queries/{named.slug}",
        "params": [
            {"name": p.name, "type": p.type, "default": p.default, "about": p.about}
            for p in named.params
        ],
    }


async def named_query(request: Request) -> Response:
    site = site_of(request)
    slug = request.path_params["slug"]
    named = site.queries.get(slug)
    if named is None:
        raise ProtocolError(404, f"no named query {slug!r}; /queries lists them")
    given = {k: v for k, v in request.query_params.items() if k not in RESERVED}
    wants_page = not request.query_params.get("format") and prefers_html(
        request.headers.get("accept")
    )
    if not wants_page:
        text = named.bind(given, site.notations)  # a bad value: 400 naming the parameter
        operation = Operation(Verb.QUERY, text, (), (), request.query_params.get("format"))
        return await sparql_routes.answer_query(request, service_of(request), operation)
    return await _page(request, site, named, given)


async def _page(request: Request, site: Site, named: NamedQuery, given: dict) -> Response:
    values = {p.name: given.get(p.name, p.default or "") for p in named.params}
    context = {
        "title": named.title,
        "breadcrumbs": [("Queries", "/queries"), (named.title, None)],
        "named": named,
        "values": values,
        "table": None,
        "error": None,
        "downloads": [],
        "editor": None,
        "alternates": [
            {
                "name": "SPARQL JSON",
                "media_type": "application/sparql-results+json",
                "href": f"/queries/{named.slug}?" + urlencode({**given, "format": "json"}),
            }
        ],
    }
    status = 200
    try:
        text = named.bind(given, site.notations)
        context["editor"] = "/sparql?" + urlencode({"query": text})
        operation = Operation(Verb.QUERY, text, (), (), None)
        served = await sparql_routes.until_disconnected(
            request, service_of(request).query(operation, READABLE)
        )
        context["table"] = results_table(served)
        context["downloads"] = downloads(context["table"]["kind"], f"/queries/{named.slug}", given)
    except (KgError, ParameterError) as error:
        status = status_of(error)
        context["error"] = str(error)
    body = site.renderer.page("query.html", **context)
    return Response(body, status_code=status, media_type=HTML, headers={"Vary": "Accept"})
