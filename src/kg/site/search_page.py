"""`/search`: the search form, its ranked and highlighted results with filters, as HTML or JSON."""

import json
from dataclasses import asdict
from urllib.parse import urlencode

from fastapi import Request, Response

from kg.server.answers import Answer
from kg.server.protocol import ProtocolError
from kg.server.sparql_routes import service_of
from kg.site.render import MARK_END, MARK_START
from kg.site.search import FILTERS, KIND_NAMES, IndexMissing, IndexTask, SearchTask
from kg.site.web import HTML, cached, page_number, site_of

#: Characters of search text read at most.
MAX_TEXT = 500
#: The filters' names on the form.
FILTER_NAMES = {
    "category": "Category",
    "v1": "v1 category",
    "stage": "Lifecycle stage",
    "actor": "Actor",
    "function": "NIST AI RMF function",
    "risk": "Risk addressed",
    "document": "Source document",
}


async def search(request: Request) -> Response:
    site = site_of(request)
    params = request.query_params
    text = params.get("q", "").strip()
    if len(text) > MAX_TEXT:
        raise ProtocolError(400, f"q: at most {MAX_TEXT} characters, not {len(text)}")
    filters = tuple((name, params[name]) for name in FILTERS if params.get(name))
    page = page_number(request)
    as_json = params.get("format") == "json"

    async def make(snapshot) -> Answer:
        service = service_of(request)
        task = SearchTask(snapshot, site.search_dir, site.base_iri, text, filters, page)
        try:
            results = await service.run(task)
        except IndexMissing:  # the first search since the data changed
            await service.run(IndexTask(snapshot, site.search_dir, site.base_iri))
            results = await service.run(task)
        if as_json:
            return Answer("application/json", _json(results))
        chosen = dict(filters)
        body = site.renderer.page(
            "search.html",
            title=f"Search: {text}" if text else "Search",
            breadcrumbs=[("Search", None)],
            text=text,
            chosen=chosen,
            results=results,
            filter_names=FILTER_NAMES,
            kind_names=KIND_NAMES,
            page_link=lambda n: "/search?" + urlencode({"q": text, **chosen, "page": n}),
            searched=bool(text or filters),
            alternates=[
                {
                    "name": "JSON",
                    "media_type": "application/json",
                    "href": "/search?" + urlencode({"q": text, **chosen, "format": "json"}),
                }
            ],
        )
        return Answer(HTML, body)

    return await cached(request, ("search", text, filters, page, as_json), make)


def _json(results) -> bytes:
    """Hits with their matches marked by <mark> … </mark> in plain text fields."""

    def plain(marked: str) -> str:
        return marked.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")

    data = {
        "total": results.total,
        "page": results.page,
        "page_size": results.page_size,
        "hits": [
            {
                **asdict(hit),
                "name": plain(hit.name),
                "snippet": plain(hit.snippet),
                "also": plain(hit.also),
            }
            for hit in results.hits
        ],
    }
    return json.dumps(data, ensure_ascii=False).encode()
