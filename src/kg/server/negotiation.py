"""Content negotiation: which serialization a client gets for a kind of result.

The kind (solutions, boolean, graph, dataset) is known only once a query has run, so the choice is
a pure function of the request's `Accept` header and `format` parameter that the query worker calls.
Quality values and wildcards are python-mimeparse's; a `format` parameter (a short name or a media
type) overrides the header.
"""

from dataclasses import dataclass
from enum import Enum

import mimeparse
from pyoxigraph import QueryResultsFormat, RdfFormat


class Kind(Enum):
    SOLUTIONS = "solutions"  # SELECT
    BOOLEAN = "boolean"  # ASK
    GRAPH = "graph"  # CONSTRUCT, DESCRIBE, a graph of the graph store
    DATASET = "dataset"  # the whole store, named graphs kept


@dataclass(frozen=True)
class Choice:
    """A negotiated serialization: the pyoxigraph format and the media type to answer with."""

    format: QueryResultsFormat | RdfFormat
    media_type: str


class NotAcceptable(Exception):
    """No serialization of this kind of result matches what the client accepts."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


RESULTS = {
    "json": QueryResultsFormat.JSON,
    "xml": QueryResultsFormat.XML,
    "csv": QueryResultsFormat.CSV,
    "tsv": QueryResultsFormat.TSV,
}
RDF = {
    "turtle": RdfFormat.TURTLE,
    "ntriples": RdfFormat.N_TRIPLES,
    "nquads": RdfFormat.N_QUADS,
    "trig": RdfFormat.TRIG,
    "jsonld": RdfFormat.JSON_LD,
    "rdfxml": RdfFormat.RDF_XML,
}
#: Short names a `format` parameter may use besides the names above (file extensions, aliases).
ALIASES = {"ttl": "turtle", "nt": "ntriples", "nq": "nquads", "json-ld": "jsonld", "rdf": "rdfxml"}

#: Characters of a client's Accept header or format parameter an error message repeats at most.
ECHO_LIMIT = 200

#: Offered formats per kind, least preferred first (mimeparse breaks ties towards the end); the
#: last one is the default for `*/*` or no Accept header.
OFFERS: dict[Kind, list[QueryResultsFormat | RdfFormat]] = {
    Kind.SOLUTIONS: [RESULTS["tsv"], RESULTS["csv"], RESULTS["xml"], RESULTS["json"]],
    Kind.BOOLEAN: [RESULTS["xml"], RESULTS["json"]],
    Kind.GRAPH: [
        RDF["rdfxml"],
        RDF["jsonld"],
        RDF["trig"],
        RDF["nquads"],
        RDF["ntriples"],
        RDF["turtle"],
    ],
    Kind.DATASET: [RDF["jsonld"], RDF["trig"], RDF["nquads"]],
}
#: Media types clients commonly send for a format, besides its registered one.
EXTRA_TYPES = {
    RESULTS["json"]: ["application/json"],
    RESULTS["xml"]: ["application/xml", "text/xml"],
    RDF["ntriples"]: ["text/plain"],
    RDF["jsonld"]: ["application/json"],
    RDF["rdfxml"]: ["application/xml", "text/xml"],
}


def choose(kind: Kind, accept: str | None, format_name: str | None = None) -> Choice:
    """The serialization to answer a result of `kind` with, or NotAcceptable."""
    offers = OFFERS[kind]
    if format_name:
        return _by_name(kind, offers, format_name)
    # Aliases first, registered types after, least preferred first: mimeparse breaks ties
    # towards the end, so `text/*` picks CSV (a registered type), not XML sent as text/xml.
    media_types = {t: o for o in offers for t in EXTRA_TYPES.get(o, [])}
    media_types.update({_essence(o): o for o in offers})
    try:
        best = mimeparse.best_match(list(media_types), accept or "*/*")
    except (mimeparse.MimeTypeParseException, ValueError):
        best = mimeparse.best_match(list(media_types), "*/*")  # a garbled header accepts anything
    if not best:
        raise NotAcceptable(
            f"cannot answer this {kind.value} result as {_echo(accept)}; "
            f"available: {', '.join(_essence(o) for o in reversed(offers))}"
        )
    chosen = media_types[best]
    return Choice(chosen, _answer_type(chosen))


def _by_name(kind: Kind, offers: list, name: str) -> Choice:
    wanted = name.strip().lower()
    wanted = ALIASES.get(wanted, wanted)
    chosen = RESULTS.get(wanted) or RDF.get(wanted)
    if chosen is None:  # a media type given as the format
        types = {t: o for o in offers for t in (_essence(o), *EXTRA_TYPES.get(o, []))}
        chosen = types.get(wanted)
    if chosen not in offers:
        names = [n for n, f in {**RESULTS, **RDF}.items() if f in offers]
        raise NotAcceptable(
            f"format={_echo(name)} is not available for a {kind.value} result; "
            f"use one of: {', '.join(names)}"
        )
    return Choice(chosen, _answer_type(chosen))


def format_name(choice: Choice) -> str:
    """The short name of a chosen format (a key of RESULTS or RDF)."""
    return next(n for n, f in {**RESULTS, **RDF}.items() if f == choice.format)


def _echo(given: str | None) -> str:
    """What the client sent, quoted, cut after ECHO_LIMIT characters: an error answer stays
    short whatever the size of the header."""
    if given is None or len(given) <= ECHO_LIMIT:
        return repr(given)
    return f"{given[:ECHO_LIMIT]!r}… ({len(given)} characters)"


def _essence(offer: QueryResultsFormat | RdfFormat) -> str:
    """The media type without parameters (pyoxigraph gives CSV and TSV a charset)."""
    return offer.media_type.split(";")[0].strip()


def _answer_type(chosen: QueryResultsFormat | RdfFormat) -> str:
    essence = _essence(chosen)
    text = essence.startswith("text/") or chosen in (RESULTS["json"], RDF["jsonld"])
    return f"{essence}; charset=utf-8" if text else essence
