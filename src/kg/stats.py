"""Dataset statistics, by SPARQL over the store."""

from typing import Any

from kg.store import GraphStore
from kg.vocab import PREFIXES

CLASS_COUNTS = """
SELECT ?class (COUNT(?s) AS ?count)
WHERE { ?s a ?class }
GROUP BY ?class ORDER BY DESC(?count) ?class
"""


def compact(iri: str) -> str:
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace):
            return f"{prefix}:{iri[len(namespace) :]}"
    return iri


def store_stats(store: GraphStore) -> dict[str, Any]:
    triples = next(iter(store.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")))["n"]
    return {
        "triples": int(triples.value),
        "quads": store.quad_count(),
        "graphs": len(store.named_graphs()),
        "classes": {
            compact(row["class"].value): int(row["count"].value)
            for row in store.query(CLASS_COUNTS)
        },
    }
