"""The data version of a remote store, kept in the engine so that every kg in front of it
agrees on it (ETags, caches): one triple in a graph of its own, set by the request that
changes the data."""

import uuid

from pyoxigraph import Literal, NamedNode, QuerySolutions

from kg.vocab import OWL

VERSION_GRAPH = "graph/version"
#: Where a change sent in several requests waits before one request moves it into place.
STAGING = "graph/staging/"


def version_graph(base_iri: str) -> NamedNode:
    return NamedNode(base_iri + VERSION_GRAPH)


def version_query(base_iri: str) -> str:
    graph = version_graph(base_iri)
    return f"SELECT ?version WHERE {{ GRAPH {graph} {{ {graph} {OWL.versionInfo} ?version }} }}"


def read_version(rows: QuerySolutions) -> str | None:
    found = [row["version"].value for row in rows]
    return found[0] if len(found) == 1 else None


def new_version() -> str:
    return uuid.uuid4().hex


def version_update(base_iri: str, version: str) -> str:
    graph = version_graph(base_iri)
    value = Literal(version)
    return (
        f"DROP SILENT GRAPH {graph} ;\n"
        f"INSERT DATA {{ GRAPH {graph} {{ {graph} {OWL.versionInfo} {value} }} }}"
    )
