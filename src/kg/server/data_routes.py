"""The data as documents: Graph Store Protocol reads, whole-dataset dumps, VoID, health."""

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, JSONResponse

from kg.server.cache import matches
from kg.server.description import DUMPS, RDFLIB_FORMATS, void_description
from kg.server.negotiation import RDF, Choice, Kind, choose
from kg.server.protocol import ProtocolError
from kg.server.sparql_routes import service_of
from kg.server.sparql_tasks import Scope


async def graph_store_get(request: Request) -> Response:
    """GET ?graph=<iri> (a named graph), ?default (the default graph) or nothing (the dataset)."""
    params = request.query_params
    graphs = params.getlist("graph")
    if len(graphs) > 1 or (graphs and "default" in params):
        raise ProtocolError(400, "name one graph: ?graph=<iri> or ?default, not both")
    accept, requested = request.headers.get("accept"), params.get("format")
    scope = Scope(graphs[0]) if graphs else Scope(default="default" in params)
    choice = choose(Kind.DATASET if scope.is_dataset else Kind.GRAPH, accept, requested)
    return await _file(request, scope, choice, extra={"Vary": "Accept"})


async def graph_store_write(request: Request) -> Response:
    service_of(request).authorize(request.headers.get("authorization"))
    message = "the graph store is read-only: change graphs with SPARQL Update"
    raise ProtocolError(405, message, {"Allow": "GET, HEAD"})


async def dump(request: Request) -> Response:
    """The whole dataset: named graphs in .nq, .trig, .jsonld; the merged graph in .ttl, .nt."""
    suffix = request.path_params["suffix"]
    if suffix not in DUMPS:
        raise ProtocolError(404, f"no dump /dump.{suffix}; available: {', '.join(DUMPS)}")
    rdf_format = RDF[DUMPS[suffix]]
    choice = Choice(rdf_format, rdf_format.media_type)
    disposition = {"Content-Disposition": f'attachment; filename="kg.{suffix}"'}
    return await _file(request, Scope(), choice, extra=disposition)


async def _file(request: Request, scope: Scope, choice: Choice, extra: dict[str, str]) -> Response:
    service = service_of(request)
    tag = service.export_tag(scope, choice)
    if matches(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers={"ETag": tag})
    target = await service.export(scope, choice)
    headers = {"ETag": tag, "Cache-Control": "no-cache", **extra}
    return FileResponse(target, media_type=choice.media_type, headers=headers)


async def void(request: Request) -> Response:
    service = service_of(request)
    choice = choose(Kind.GRAPH, request.headers.get("accept"), request.query_params.get("format"))
    root = str(request.url_for("health")).removesuffix("health")
    graph = void_description(
        root=root,
        endpoint=str(request.url_for("sparql")),
        base_iri=service.settings.base_iri,
        statistics=await service.statistics(),
    )
    body = graph.serialize(format=RDFLIB_FORMATS[choice.format], encoding="utf-8")
    return Response(body, media_type=choice.media_type, headers={"Vary": "Accept"})


async def health(request: Request) -> Response:
    service = service_of(request)
    return JSONResponse(
        {
            "status": "ok",
            "data_version": service.snapshot().version,
            "updates": service.updates_enabled,
        }
    )


router = APIRouter()  # plain Starlette routes, as in sparql_routes
GET = ["GET", "HEAD"]
router.add_route("/store", graph_store_get, methods=GET, name="graph_store")
router.add_route("/store", graph_store_write, methods=["PUT", "POST", "DELETE", "PATCH"])
router.add_route("/dump.{suffix}", dump, methods=GET, name="dump")
router.add_route("/.well-known/void", void, methods=GET, name="void")
router.add_route("/health", health, methods=GET, name="health")
