"""Kinds of resource page, and what each kind's page lists beyond the resource's description.

Each reader runs in a worker (inside `ResourceTask`) and returns plain data for its template;
`?this` is bound to the resource as a value."""

from collections.abc import Callable

from pyoxigraph import NamedNode, Store

from kg.site.graph_reads import labels_of, scheme_tree, select
from kg.vocab import KG_NS, OWL_NS, SKOS_NS

#: The taxonomies kg publishes (their schemes are `<base>taxonomy/<name>`).
SCHEMES = ["mitigation", "stage", "actor", "rmf-function"]
#: Coverage map dimensions: their scheme and the property that classifies a mitigation in it.
DIMENSIONS = {
    "stage": ("stage", "lifecycleStage"),
    "actor": ("actor", "actor"),
    "function": ("rmf-function", "rmfFunction"),
}
#: Mitigations per page of a concept's list.
PAGE_SIZE = 50
#: Kinds by the class a resource has, most specific first.
KIND_BY_CLASS = [
    (KG_NS + "Mitigation", "mitigation"),
    (KG_NS + "SourceDocument", "document"),
    (KG_NS + "Paper", "document"),
    (KG_NS + "Report", "document"),
    (KG_NS + "Framework", "document"),
    (KG_NS + "Author", "author"),
    (KG_NS + "Heading", "concept"),
    (KG_NS + "HeadingScheme", "scheme"),
    (SKOS_NS + "ConceptScheme", "scheme"),
    (SKOS_NS + "Concept", "concept"),
    (OWL_NS + "Ontology", "ontology"),
]


def kind_of(store: Store, node: NamedNode, types: list[str]) -> str:
    for cls, kind in KIND_BY_CLASS:
        if cls in types:
            return kind
    if store.contains_named_graph(node):
        return "graph"
    return "resource"


# --- mitigation ------------------------------------------------------------------------------

CATEGORY_PATH = """
SELECT ?this ?c ?notation WHERE {
  ?this kg:category ?own . ?own skos:broader* ?c .
  OPTIONAL { ?c skos:notation ?notation }
}"""

SAME_DOCUMENT = """
SELECT ?this ?m ?code WHERE {
  ?this kg:sourceDocument ?d . ?m kg:sourceDocument ?d ; a kg:Mitigation .
  FILTER(?m != ?this)
  OPTIONAL { ?m kg:category/skos:notation ?code }
} ORDER BY ?code ?m LIMIT 200"""

HEADING_PATH = "SELECT ?this ?path WHERE { ?this kg:sourceHeading/kg:headingPath ?path }"


def mitigation(store: Store, node: NamedNode, page: int) -> dict:
    path = select(store, CATEGORY_PATH, node)
    path.sort(key=lambda row: len(row["notation"].value.split(".")) if "notation" in row else 0)
    related = select(store, SAME_DOCUMENT, node)
    labels = labels_of(store, [r["c"] for r in path] + [r["m"] for r in related])
    heading = select(store, HEADING_PATH, node)
    return {
        "category_path": [(r["c"].value, _value(r, "notation")) for r in path],
        "related": [(r["m"].value, _value(r, "code")) for r in related],
        "heading_path": heading[0]["path"].value if heading else None,
        "labels": labels,
    }


# --- document --------------------------------------------------------------------------------

AUTHORS = """
SELECT ?this ?slot ?author WHERE {
  ?this bibo:authorList ?list . ?list ?slot ?author .
  FILTER(STRSTARTS(STR(?slot), STR(rdf:_)))
}"""

DOCUMENT_MITIGATIONS = """
SELECT ?this ?m ?category ?code ?heading ?path WHERE {
  ?m kg:sourceDocument ?this ; a kg:Mitigation .
  OPTIONAL { ?m kg:category ?category OPTIONAL { ?category skos:notation ?code } }
  OPTIONAL { ?m kg:sourceHeading ?heading OPTIONAL { ?heading kg:headingPath ?path } }
}"""


def document(store: Store, node: NamedNode, page: int) -> dict:
    slots = select(store, AUTHORS, node)
    slots.sort(key=lambda row: int(row["slot"].value.rsplit("_", 1)[1]))
    rows = select(store, DOCUMENT_MITIGATIONS, node)
    nodes = [r["author"] for r in slots] + [r["m"] for r in rows]
    nodes += [r["category"] for r in rows if "category" in r]
    mitigations = sorted(
        {(r["m"].value, _value(r, "category"), _value(r, "code"), _value(r, "path")) for r in rows},
        key=lambda m: (_code_key(m[2]), m[0]),
    )
    return {
        "authors": [r["author"].value for r in slots],
        "mitigations": mitigations,  # (iri, category, code, heading path)
        "labels": labels_of(store, nodes),
    }


# --- concepts: categories, stages, actors, functions, headings --------------------------------

MEMBERS = """
SELECT ?this ?m ?code WHERE {
  { SELECT DISTINCT ?this ?m WHERE { ?c skos:broader* ?this . ?m ?p ?c ; a kg:Mitigation } }
  OPTIONAL { ?m kg:category/skos:notation ?code }
} ORDER BY ?code ?m"""

MEMBER_COUNT = """
SELECT ?this (COUNT(DISTINCT ?m) AS ?n) WHERE {
  ?c skos:broader* ?this . ?m ?p ?c ; a kg:Mitigation
} GROUP BY ?this"""

NARROWER = """
SELECT ?this ?narrower (COUNT(DISTINCT ?m) AS ?n) WHERE {
  ?narrower skos:broader ?this .
  OPTIONAL { ?c skos:broader* ?narrower . ?m ?p ?c ; a kg:Mitigation }
} GROUP BY ?this ?narrower"""


def concept(store: Store, node: NamedNode, page: int) -> dict:
    offset = (page - 1) * PAGE_SIZE
    members = select(store, f"{MEMBERS} LIMIT {PAGE_SIZE} OFFSET {offset}", node)
    count = select(store, MEMBER_COUNT, node)
    narrower = select(store, NARROWER, node)
    labels = labels_of(store, [r["m"] for r in members] + [r["narrower"] for r in narrower])
    return {
        "members": [(r["m"].value, _value(r, "code")) for r in members],
        "total": int(count[0]["n"].value) if count else 0,
        "page": page,
        "page_size": PAGE_SIZE,
        "narrower": sorted(
            ((r["narrower"].value, int(r["n"].value)) for r in narrower),
            key=lambda n: (_code_key(labels.get(n[0], "")), n[0]),
        ),
        "labels": labels,
    }


def scheme(store: Store, node: NamedNode, page: int) -> dict:
    return {"tree": scheme_tree(store, node)}


# --- author, file graph ----------------------------------------------------------------------

AUTHOR_DOCUMENTS = """
SELECT ?this ?d ?year (COUNT(DISTINCT ?m) AS ?n) WHERE {
  ?d dcterms:creator ?this .
  OPTIONAL { ?d dcterms:issued ?year }
  OPTIONAL { ?m kg:sourceDocument ?d ; a kg:Mitigation }
} GROUP BY ?this ?d ?year ORDER BY DESC(?year) ?d"""


def author(store: Store, node: NamedNode, page: int) -> dict:
    rows = select(store, AUTHOR_DOCUMENTS, node)
    return {
        "documents": [(r["d"].value, _value(r, "year"), int(r["n"].value)) for r in rows],
        "labels": labels_of(store, [r["d"] for r in rows]),
    }


GRAPH_MEMBERS = """
SELECT ?this ?m ?code WHERE {
  GRAPH ?this { ?m a kg:Mitigation OPTIONAL { ?m kg:category ?c } }
  OPTIONAL { ?c skos:notation ?code }
} ORDER BY ?code ?m LIMIT 500"""
GRAPH_SIZE = "SELECT ?this (COUNT(*) AS ?n) WHERE { GRAPH ?this { ?s ?p ?o } } GROUP BY ?this"


def graph(store: Store, node: NamedNode, page: int) -> dict:
    members = select(store, GRAPH_MEMBERS, node)
    size = select(store, GRAPH_SIZE, node)
    return {
        "members": [(r["m"].value, _value(r, "code")) for r in members],
        "triples": int(size[0]["n"].value) if size else 0,
        "labels": labels_of(store, [r["m"] for r in members]),
    }


READERS: dict[str, Callable[[Store, NamedNode, int], dict]] = {
    "mitigation": mitigation,
    "document": document,
    "concept": concept,
    "scheme": scheme,
    "author": author,
    "graph": graph,
}


def _value(row: dict, name: str) -> str | None:
    return row[name].value if name in row else None


def _code_key(code: str | None) -> tuple:
    """Notations in numeric order (2.10 after 2.9), others after them."""
    parts = (code or "").split(".")
    if code and all(p.isdigit() for p in parts):
        return (0, tuple(int(p) for p in parts))
    return (1, (code or "",))
