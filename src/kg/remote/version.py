"""The data version of a remote store, kept in the engine so that every kg in front of it
agrees on it (ETags, caches): one triple in a graph of its own, set by the request that
changes the data."""

import uuid
from collections.abc import Iterable, Iterator

from pyoxigraph import Literal, NamedNode, Quad, QuerySolutions

from kg.vocab import DCTERMS, OWL

VERSION_GRAPH = "graph/version"
#: Where a change sent in several requests waits before one request moves it into place.
STAGING = "graph/staging/"
#: kg's default graph on an engine whose default graph is the union of all its graphs.
UNION_GRAPH = "graph/union"
#: A graph kg never writes: the dataset's named graphs when it has none (an empty list would
#: mean every graph of the engine to some engines).
NO_GRAPH = "graph/none"
#: Triples per INSERT DATA operation (engines parse each as one statement).
BATCH = 2_000


def version_graph(base_iri: str) -> NamedNode:
    return NamedNode(base_iri + VERSION_GRAPH)


# Both queries name their dataset, so that kg's reader adds none: the version graph is outside
# the dataset it names on an engine with a union default graph.


def version_query(base_iri: str) -> str:
    graph = version_graph(base_iri)
    pattern = f"GRAPH {graph} {{ {graph} {OWL.versionInfo} ?version }}"
    return f"SELECT ?version FROM NAMED {graph} WHERE {{ {pattern} }}"


def graphs_query(base_iri: str) -> str:
    """kg's named graphs, as the version graph lists them."""
    graph = version_graph(base_iri)
    pattern = f"GRAPH {graph} {{ {graph} {DCTERMS.hasPart} ?graph }}"
    return f"SELECT ?graph FROM NAMED {graph} WHERE {{ {pattern} }}"


def read_version(rows: QuerySolutions) -> str | None:
    found = [row["version"].value for row in rows]
    return found[0] if len(found) == 1 else None


def new_version() -> str:
    return uuid.uuid4().hex


def version_quads(base_iri: str, version: str, graphs: Iterable[NamedNode]) -> Iterator[Quad]:
    """kg's named graphs (a reader on a union default graph names them), then the version."""
    graph = version_graph(base_iri)
    for part in graphs:
        yield Quad(graph, DCTERMS.hasPart, part, graph)
    yield Quad(graph, OWL.versionInfo, Literal(version), graph)


def version_update(base_iri: str, version: str, graphs: Iterable[NamedNode]) -> list[str]:
    """The operations that replace the version graph by `version_quads`, the version last (on
    an engine that applies them one by one, readers meanwhile see no version)."""
    graph = version_graph(base_iri)
    quads = version_quads(base_iri, version, graphs)
    *listed, versioned = (f"{q.subject} {q.predicate} {q.object} ." for q in quads)
    # Batches: Virtuoso refuses an INSERT DATA of more than about 5,000 triples, and a request
    # of more than 10 MB (the list of 400k graphs is 40 MB).
    batches = ("\n".join(listed[start : start + BATCH]) for start in range(0, len(listed), BATCH))
    operations = [
        f"DROP SILENT GRAPH {graph}",
        *(f"INSERT DATA {{ GRAPH {graph} {{\n{batch}\n}} }}" for batch in batches),
        f"INSERT DATA {{ GRAPH {graph} {{ {versioned} }} }}",
    ]
    return [operation + " ;\n" for operation in operations]
