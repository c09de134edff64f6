"""The site's routes, in the order they must be matched: the resource route takes every path (as
the IRI it names), so it comes last, after every other router of the app."""

from fastapi import APIRouter
from fastapi.staticfiles import StaticFiles

from kg.site import queries_page, routes, search_page, sparql_page
from kg.site.paths import ONTOLOGY_PATH
from kg.site.render import STATIC


def pages() -> APIRouter:
    """Routes that must come before the SPARQL protocol's (the editor at /sparql for browsers)."""
    router = APIRouter()
    router.add_route("/sparql", sparql_page.sparql_get, methods=["GET", "HEAD"], name="sparql")
    return router


def site() -> APIRouter:
    router = APIRouter()
    get = ["GET", "HEAD"]
    router.add_route("/", routes.home, methods=get, name="home")
    router.add_route("/coverage", routes.coverage, methods=get, name="coverage")
    router.add_route("/search", search_page.search, methods=get, name="search")
    router.add_route("/queries", queries_page.query_list, methods=get, name="queries")
    router.add_route("/queries/{slug}", queries_page.named_query, methods=get, name="query")
    router.add_route(routes.CONTEXT_PATH, routes.jsonld_context, methods=get, name="context")
    router.add_route(ONTOLOGY_PATH, routes.ontology, methods=get, name="ontology")
    router.add_route(ONTOLOGY_PATH + ".{suffix}", routes.ontology, methods=get)
    router.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    router.add_route("/{path:path}", routes.resource, methods=get, name="resource")
    return router
