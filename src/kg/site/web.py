"""What the site's pages share: the site's parts (URL space, templates), cached answers with
their validators, page numbers, and the 404 of a path that names nothing."""

from fastapi import Request, Response

from kg.named_queries import load_queries
from kg.server.cache import matches
from kg.server.negotiation import NotAcceptable
from kg.server.protocol import ProtocolError
from kg.server.service import Served
from kg.server.sparql_routes import service_of
from kg.settings import Settings
from kg.site.negotiation import choose_view
from kg.site.paths import Paths
from kg.site.render import Renderer
from kg.taxonomy import load_vocabulary
from kg.vocab import Iris

HTML = "text/html; charset=utf-8"


class Site:
    """What the site's routes share: the URL space, the templates, the named queries and the
    taxonomy's category codes (their parameters' values are checked against them)."""

    def __init__(self, settings: Settings) -> None:
        self.base_iri = settings.base_iri
        self.paths = Paths(settings.base_iri)
        self.renderer = Renderer(self.paths)
        self.ontology_graph = Iris(settings.base_iri).vocabulary_graph("kg").value
        self.queries = load_queries(settings.queries_dir)
        self.notations = frozenset(load_vocabulary(settings.ontology_dir).categories)
        #: Where the search indexes are kept (one per data version), in the store directory.
        self.search_dir = str(settings.store_dir.resolve() / "search")


def site_of(request: Request) -> Site:
    return request.app.state.site


class NotFound(Exception):
    """Nothing in the graph at this path."""

    def __init__(self, iri: str) -> None:
        super().__init__(f"the graph has nothing about <{iri}>")
        self.iri = iri


async def cached(request: Request, key: tuple, make) -> Response:
    """The answer named by `key` on the live data: 304 when the client has it, from the cache
    when it is there, else made by `make(snapshot)` (an `Answer`)."""
    service = service_of(request)
    tag, served = service.lookup(key)
    if matches(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers={"ETag": tag, "Vary": "Accept"})
    if served is None:
        served = await service.answer(key, make)
    return _response(served)


def _response(served: Served) -> Response:
    headers = {
        "ETag": served.etag,
        "Vary": "Accept",
        "Cache-Control": "no-cache",
        "X-Cache": "hit" if served.cached else "miss",
        **dict(served.answer.headers),
    }
    return Response(served.answer.body, headers=headers, media_type=served.answer.media_type)


async def not_found(request: Request, error: NotFound) -> Response:
    """An HTML page for browsers, a line of text for others."""
    try:
        wants_html = choose_view(request.headers.get("accept")) == "html"
    except NotAcceptable:
        wants_html = False
    if wants_html:
        body = site_of(request).renderer.page("not_found.html", title="Not found", iri=error.iri)
        return Response(body, status_code=404, media_type=HTML)
    return Response(f"{error}\n", status_code=404, media_type="text/plain; charset=utf-8")


def page_number(request: Request) -> int:
    given = request.query_params.get("page", "1")
    if not given.isdigit() or not 1 <= int(given) <= 100_000:
        raise ProtocolError(400, f"page must be a number from 1, not {given[:40]!r}")
    return int(given)
