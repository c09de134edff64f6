"""The SHACL shapes (`shapes/*.ttl`), read once and moved to the configured base IRI.

Shapes are written under the default base, like the taxonomies. Three kinds of term mention data
IRIs and move with `KG_BASE_IRI`: IRIs (`sh:hasValue`, `sh:targetNode`), `sh:pattern` regexes,
which start with the escaped default base, and `sh:namespace` literals of declared prefixes.
"""

import re
from functools import cache
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import SH

from kg.errors import InputError
from kg.settings import DEFAULT_BASE_IRI
from kg.vocab import Iris

#: How every IRI pattern in the shapes starts (a regex anchored on the escaped default base).
PATTERN_PREFIX = "^" + DEFAULT_BASE_IRI.replace(".", "\\.")


@cache
def load_shapes(shapes_dir: Path, base_iri: str = DEFAULT_BASE_IRI) -> Graph:
    """All shapes of `shapes_dir` in one graph, under `base_iri`."""
    files = sorted(shapes_dir.glob("*.ttl"))
    if not files:
        raise InputError(str(shapes_dir), "no shapes (*.ttl) found, expected the shapes folder")
    graph = Graph()
    for path in files:
        try:
            graph.parse(path, format="turtle")
        except (SyntaxError, ValueError) as error:  # rdflib's Turtle errors are both kinds
            raise InputError(str(path), f"invalid Turtle: {error}") from None
    return graph if base_iri == DEFAULT_BASE_IRI else _rebased(graph, Iris(base_iri))


def _rebased(graph: Graph, iris: Iris) -> Graph:
    moved = Graph()
    for prefix, namespace in graph.namespaces():
        moved.bind(prefix, namespace)
    pattern_prefix = "^" + re.escape(iris.base)
    for subject, predicate, obj in graph:
        if isinstance(subject, URIRef):
            subject = URIRef(iris.rebase(str(subject)))
        if isinstance(obj, URIRef):
            obj = URIRef(iris.rebase(str(obj)))
        elif predicate == SH.pattern and str(obj).startswith(PATTERN_PREFIX):
            obj = Literal(pattern_prefix + str(obj)[len(PATTERN_PREFIX) :])
        elif predicate == SH.namespace:
            obj = Literal(iris.rebase(str(obj)), datatype=obj.datatype)
        moved.add((subject, predicate, obj))
    return moved
