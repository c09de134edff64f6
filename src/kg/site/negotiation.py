"""Which view of a resource a client gets: HTML for browsers, RDF for machines.

A browser's Accept header names text/html first; RDF clients name their formats. Ties go to Turtle,
which is also the answer to `*/*` or no Accept header (a script fetching an IRI wants data).
"""

import mimeparse

from kg.server.negotiation import NotAcceptable

#: Views of a resource and their media types, least preferred first (mimeparse breaks ties
#: towards the end).
VIEWS = {
    "rdfxml": "application/rdf+xml",
    "ntriples": "application/n-triples",
    "jsonld": "application/ld+json",
    "html": "text/html",
    "turtle": "text/turtle",
}
ALIASES = {"application/xhtml+xml": "html", "application/json": "jsonld", "text/plain": "ntriples"}
NAMES = {
    "html": "HTML",
    "turtle": "Turtle",
    "jsonld": "JSON-LD",
    "ntriples": "N-Triples",
    "rdfxml": "RDF/XML",
}
SUFFIX_OF = {
    "html": ".html",
    "turtle": ".ttl",
    "jsonld": ".jsonld",
    "ntriples": ".nt",
    "rdfxml": ".rdf",
}


def choose_view(accept: str | None) -> str:
    offers = {**{t: v for t, v in ALIASES.items()}, **{t: v for v, t in VIEWS.items()}}
    try:
        best = mimeparse.best_match(list(offers), accept or "*/*")
    except (mimeparse.MimeTypeParseException, ValueError):
        best = mimeparse.best_match(list(offers), "*/*")
    if not best:
        raise NotAcceptable(
            f"cannot answer with any of {accept[:200]!r}; available: {', '.join(VIEWS.values())}"
        )
    return offers[best]


def media_type(view: str) -> str:
    kind = VIEWS[view]
    return f"{kind}; charset=utf-8" if kind.startswith("text/") or view == "jsonld" else kind


def alternates(path: str) -> list[dict[str, str]]:
    """The views of the resource at `path`, each at its suffix URL."""
    return [
        {"name": NAMES[view], "media_type": VIEWS[view], "href": path + SUFFIX_OF[view]}
        for view in ("html", "turtle", "jsonld", "ntriples", "rdfxml")
    ]


def link_header(path: str) -> str:
    return ", ".join(
        f'<{alt["href"]}>; rel="alternate"; type="{alt["media_type"]}"' for alt in alternates(path)
    )
