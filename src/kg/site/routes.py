"""The site's routes: the home page, the coverage map, the ontology, and every other path as the
IRI it names (`paths`), in the view the client negotiated or its suffix names."""

from fastapi import Request, Response
from fastapi.responses import FileResponse

from kg.server.answers import Answer
from kg.server.cache import matches
from kg.server.negotiation import RDF, Choice, NotAcceptable
from kg.server.protocol import ProtocolError
from kg.server.sparql_routes import service_of
from kg.server.sparql_tasks import Scope
from kg.site.coverage import DIMENSIONS
from kg.site.negotiation import alternates, choose_view, link_header, media_type
from kg.site.paths import ONTOLOGY_PATH, SUFFIXES
from kg.site.reads import ContextTask, CoverageTask, HomeTask, OntologyTask, ResourceTask
from kg.site.resource_view import Resource, by_category, by_heading
from kg.site.web import HTML, NotFound, Site, cached, page_number, site_of
from kg.vocab import NAVIGATOR_PAGE, ONTOLOGY_IRI

#: The template of each kind of resource page (others get the generic one).
TEMPLATES = {
    kind: f"{kind}.html"
    for kind in ("mitigation", "document", "concept", "scheme", "author", "graph", "mapping")
}

# --- resources -------------------------------------------------------------------------------


async def resource(request: Request) -> Response:
    site = site_of(request)
    raw_path = request.scope.get("raw_path", request.url.path.encode()).decode("latin-1")
    candidates = site.paths.candidates(raw_path)
    try:
        negotiated = choose_view(request.headers.get("accept"))
        views = [(candidates[0][0], negotiated)] + candidates[1:]
    except NotAcceptable:
        if len(candidates) == 1:
            raise
        views = candidates[1:]  # the suffix says which view: the Accept header does not count
    page = page_number(request)
    task_candidates = tuple((iri, None if view == "html" else view) for iri, view in views)

    async def make(snapshot) -> Answer:
        found = await service_of(request).run(ResourceTask(snapshot, task_candidates, page))
        if found is None:
            raise NotFound(views[0][0])
        index, data = found
        iri, view = views[index]
        local = site.paths.local(iri) or raw_path
        headers = [("Link", link_header(local))]
        if index == 0:  # negotiated: the document served has its own URL
            headers.append(("Content-Location", local + _suffix(view)))
        if view == "html":
            body = _resource_html(site, data, local, page)
            return Answer(HTML, body, headers=tuple(headers))
        return Answer(media_type(view), data, headers=tuple(headers))

    return await cached(request, ("resource", task_candidates, page), make)


def _suffix(view: str) -> str:
    return next(s for s, v in SUFFIXES.items() if v == view)


def _resource_html(site: Site, data, local: str, page: int) -> bytes:
    r = Resource(data)
    labels = {**r.description.labels, **data.extra.get("labels", {})}
    context = {
        "r": r,
        "extra": data.extra,
        "graphs": data.graphs,
        "title": r.title,
        "labels": labels,
        "path": local,
        "kind_label": r.kind_label(site.base_iri),
        "alternates": alternates(local),
        "breadcrumbs": _breadcrumbs(site, r, data, labels),
        "navigator": NAVIGATOR_PAGE,
    }
    if data.kind == "document":
        context["by_category"] = by_category(data.extra["mitigations"])
        context["by_heading"] = by_heading(data.extra["mitigations"])
    return site.renderer.page(TEMPLATES.get(data.kind, "resource.html"), **context)


def _breadcrumbs(site: Site, r: Resource, data, labels: dict) -> list[tuple[str, str | None]]:
    href = site.paths.href
    trail: list[tuple[str, str | None]] = []
    if data.kind == "mitigation":
        for document in r.all("kg:sourceDocument")[:1]:
            trail.append((labels.get(document.value, "Document"), href(document.value)))
    elif data.kind in ("concept", "scheme"):
        for scheme in r.all("skos:inScheme")[:1]:
            trail.append((labels.get(scheme.value, "Scheme"), href(scheme.value)))
        for document in r.all("kg:inDocument")[:1]:
            trail.append((labels.get(document.value, "Document"), href(document.value)))
        for broader, _ in data.extra.get("path", []):  # from the top down
            trail.append((labels.get(broader, "Broader"), href(broader)))
    elif data.kind == "mapping":
        for graph in data.graphs[:1]:
            trail.append((labels.get(graph.graph, "Crosswalk"), href(graph.graph)))
    title = r.title if len(r.title) <= 60 else r.title[:59] + "…"
    return [*trail, (title, None)]


# --- home, coverage, ontology ---------------------------------------------------------------


#: The home page's data: the dataset's VoID description.
DATASET_ALTERNATES = [
    {"name": name, "media_type": media, "href": f"/.well-known/void?format={view}"}
    for name, media, view in (
        ("Turtle", "text/turtle", "turtle"),
        ("JSON-LD", "application/ld+json", "jsonld"),
        ("N-Triples", "application/n-triples", "ntriples"),
    )
]


async def home(request: Request) -> Response:
    site = site_of(request)

    async def make(snapshot) -> Answer:
        data = await service_of(request).run(HomeTask(snapshot, site.base_iri))
        body = site.renderer.page(
            "home.html", title="AI risk mitigations", alternates=DATASET_ALTERNATES, **data
        )
        return Answer(HTML, body)

    return await cached(request, ("home",), make)


async def coverage(request: Request) -> Response:
    site = site_of(request)
    dimension = request.query_params.get("by", "stage")
    if dimension not in DIMENSIONS:
        names = ", ".join(DIMENSIONS)
        raise ProtocolError(400, f"by must be one of {names}, not {dimension[:40]!r}")

    async def make(snapshot) -> Answer:
        data = await service_of(request).run(CoverageTask(snapshot, site.base_iri, dimension))
        body = site.renderer.page(
            "coverage.html",
            title=f"Coverage: {DIMENSIONS[dimension].title}",
            dimension=dimension,
            shown=DIMENSIONS[dimension],
            dimensions=DIMENSIONS,
            breadcrumbs=[("Coverage", None)],
            **data,
        )
        return Answer(HTML, body)

    return await cached(request, ("coverage", dimension), make)


#: Where kg's JSON-LD context is served (its JSON-LD views carry the same context inline).
CONTEXT_PATH = ONTOLOGY_PATH + "/context.jsonld"


async def jsonld_context(request: Request) -> Response:
    async def make(snapshot) -> Answer:
        body = await service_of(request).run(ContextTask(snapshot))
        return Answer("application/ld+json", body)

    return await cached(request, ("json-ld context",), make)


async def ontology(request: Request) -> Response:
    site = site_of(request)
    suffix = request.path_params.get("suffix")
    links = {"Link": link_header(ONTOLOGY_PATH), "Vary": "Accept"}
    if suffix is not None:
        view = SUFFIXES.get(f".{suffix}")
        if view is None:
            raise NotFound(ONTOLOGY_IRI + "." + suffix)
    else:
        view = choose_view(request.headers.get("accept"))
        links["Content-Location"] = ONTOLOGY_PATH + _suffix(view)
    if view != "html":  # the ontology's RDF is its whole graph, as loaded
        service = service_of(request)
        rdf_format = RDF[view]
        choice = Choice(rdf_format, media_type(view))
        scope = Scope(graph=site.ontology_graph)
        tag = service.export_tag(scope, choice)
        if matches(request.headers.get("if-none-match"), tag):
            return Response(status_code=304, headers={"ETag": tag, **links})
        target = await service.export(scope, choice)
        headers = {"ETag": tag, "Cache-Control": "no-cache", **links}
        return FileResponse(target, media_type=choice.media_type, headers=headers)

    async def make(snapshot) -> Answer:
        data = await service_of(request).run(OntologyTask(snapshot, site.base_iri))
        body = site.renderer.page(
            "ontology.html",
            title="The kg ontology",
            alternates=alternates(ONTOLOGY_PATH),
            breadcrumbs=[("Ontology", None)],
            ontology_iri=ONTOLOGY_IRI,
            **data,
        )
        return Answer(HTML, body, headers=tuple(links.items()))

    return await cached(request, ("ontology",), make)
