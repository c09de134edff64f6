"""A resource's terms in the vocabularies kg is aligned to (AIRO, DPV, VAIR, NIST AI RMF), as its
pages show them: the classes it is an instance of there (from Nexus's schema, or inferred under
`kg reason`) and the SKOS matches of kg's alignment."""

from pyoxigraph import NamedNode, Store

from kg.site.graph_reads import objects
from kg.vocab import ALIGNED_NAMESPACES, PREFIXES, RDF, SKOS_NS

#: The relations a page names, the SKOS mapping relations strongest first.
RELATIONS = [
    (RDF.type.value, "instance of"),
    (SKOS_NS + "exactMatch", "exact match"),
    (SKOS_NS + "closeMatch", "close match"),
    (SKOS_NS + "broadMatch", "broader"),
    (SKOS_NS + "narrowMatch", "narrower"),
    (SKOS_NS + "relatedMatch", "related"),
]


def external_terms(store: Store, node: NamedNode) -> list[tuple[str, list[tuple[str, str]]]]:
    """By relation, the aligned vocabularies' terms `node` has: each term's IRI and prefixed
    name (`nist:AiActorTaskEnum#AI_DEVELOPMENT`)."""
    found = []
    for relation, name in RELATIONS:
        targets = sorted(
            t.value
            for t in objects(store, node, NamedNode(relation))
            if isinstance(t, NamedNode) and t.value.startswith(ALIGNED_NAMESPACES)
        )
        if targets:
            found.append((name, [(t, prefixed(t)) for t in targets]))
    return found


def prefixed(iri: str) -> str:
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{prefix}:{iri[len(namespace) :]}"
    return iri
