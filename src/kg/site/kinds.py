"""Kinds of resource page, and what each kind's page lists beyond the resource's description.

Each reader runs in a worker (inside `ResourceTask`) and returns plain data for its template;
`?this` is bound to the resource as a value."""

from collections.abc import Callable

from pyoxigraph import DefaultGraph, NamedNode, Store

from kg.site.graph_reads import (
    BROADER,
    NOTATION,
    ancestry,
    category_notation,
    first_value,
    labels_of,
    members,
    narrower_closure,
    notation_key,
    objects,
    scheme_tree,
    stating_graphs,
    subjects,
)
from kg.vocab import BIBO, DCTERMS, KG, KG_NS, OWL_NS, RDF, RDF_NS, SKOS_NS

RDF_MEMBER_PREFIX = RDF_NS + "_"

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

#: Entries of the same document a mitigation page lists at most.
RELATED = 200


def mitigation(store: Store, node: NamedNode, page: int) -> dict:
    categories = objects(store, node, KG.category)
    path = ancestry(store, categories[0]) if categories else []
    related: list[tuple[str, str | None]] = []
    in_document = 0
    for document in objects(store, node, KG.sourceDocument)[:1]:
        # The entries the pages stating this one list beside it, as the navigator shows them: a
        # document may have thousands, the page lists about ten.
        others = {
            quad.subject
            for graph in stating_graphs(store, node)
            for quad in store.quads_for_pattern(None, KG.sourceDocument, document, graph)
            if quad.subject != node and isinstance(quad.subject, NamedNode)
        }
        related = sorted(
            ((m.value, category_notation(store, m)) for m in others),
            key=lambda item: (notation_key(item[1]), item[0]),
        )[:RELATED]
        in_document = len(subjects(store, KG.sourceDocument, document))
    headings = objects(store, node, KG.sourceHeading)
    heading_path = first_value(store, headings[0], KG.headingPath) if headings else None
    labels = labels_of(store, [*path, *(NamedNode(m) for m, _ in related)])
    return {
        "category_path": [(c.value, first_value(store, c, NOTATION)) for c in path],
        "related": related,
        "in_document": in_document,
        "heading_path": heading_path,
        "labels": labels,
    }


# --- document --------------------------------------------------------------------------------


def document(store: Store, node: NamedNode, page: int) -> dict:
    authors = []
    for author_list in objects(store, node, BIBO.authorList)[:1]:
        slots = [
            (quad.predicate.value, quad.object)
            for quad in store.quads_for_pattern(author_list, None, None, DefaultGraph())
            if quad.predicate.value.startswith(RDF_MEMBER_PREFIX)
        ]
        slots.sort(key=lambda slot: int(slot[0][len(RDF_MEMBER_PREFIX) :]))
        authors = [author for _, author in slots if isinstance(author, NamedNode)]
    rows = []
    for mitigation in subjects(store, KG.sourceDocument, node):
        category = (objects(store, mitigation, KG.category) or [None])[0]
        heading = (objects(store, mitigation, KG.sourceHeading) or [None])[0]
        rows.append(
            (
                mitigation.value,
                category.value if category else None,
                first_value(store, category, NOTATION) if category else None,
                first_value(store, heading, KG.headingPath) if heading else None,
            )
        )
    rows.sort(key=lambda m: (notation_key(m[2]), m[0]))
    nodes = [*authors, *(NamedNode(r[0]) for r in rows)]
    nodes += [NamedNode(c) for c in {r[1] for r in rows if r[1]}]
    return {
        "authors": [a.value for a in authors],
        "mitigations": rows,  # (iri, category, code, heading path)
        "labels": labels_of(store, nodes),
    }


# --- concepts: categories, stages, actors, functions, headings --------------------------------


def concept(store: Store, node: NamedNode, page: int) -> dict:
    found = members(store, node)
    offset = (page - 1) * PAGE_SIZE
    shown = found.page(store, offset, PAGE_SIZE)
    narrower = sorted(
        narrower_of(store, node),
        key=lambda n: (notation_key(first_value(store, n, NOTATION)), n.value),
    )
    counts = [
        (
            n.value,
            first_value(store, n, NOTATION),
            found.count_below(set(narrower_closure(store, n))),
        )
        for n in narrower
    ]
    return {
        "members": shown,
        "total": len(found.ordered),
        "page": page,
        "page_size": PAGE_SIZE,
        "narrower": counts,
        "labels": labels_of(store, [*(NamedNode(m) for m, _ in shown), *narrower]),
    }


def narrower_of(store: Store, concept: NamedNode) -> list[NamedNode]:
    """The concepts directly below `concept`."""
    return subjects(store, BROADER, concept)


def scheme(store: Store, node: NamedNode, page: int) -> dict:
    return {"tree": scheme_tree(store, node)}


# --- author, file graph ----------------------------------------------------------------------


def author(store: Store, node: NamedNode, page: int) -> dict:
    documents = [
        (d.value, first_value(store, d, DCTERMS.issued), len(subjects(store, KG.sourceDocument, d)))
        for d in subjects(store, DCTERMS.creator, node)
    ]
    documents.sort(key=lambda d: (-(int(d[1]) if (d[1] or "").isdigit() else 0), d[0]))
    return {
        "documents": documents,
        "labels": labels_of(store, [NamedNode(d[0]) for d in documents]),
    }


#: Mitigations a graph's page lists at most.
GRAPH_MEMBERS = 500


def graph(store: Store, node: NamedNode, page: int) -> dict:
    stated = {
        quad.subject
        for quad in store.quads_for_pattern(None, RDF.type, KG.Mitigation, node)
        if isinstance(quad.subject, NamedNode)
    }
    listed = sorted(
        ((m.value, category_notation(store, m)) for m in stated),
        key=lambda item: (notation_key(item[1]), item[0]),
    )[:GRAPH_MEMBERS]
    return {
        "members": listed,
        "triples": sum(1 for _ in store.quads_for_pattern(None, None, None, node)),
        "labels": labels_of(store, [NamedNode(m) for m, _ in listed]),
    }


READERS: dict[str, Callable[[Store, NamedNode, int], dict]] = {
    "mitigation": mitigation,
    "document": document,
    "concept": concept,
    "scheme": scheme,
    "author": author,
    "graph": graph,
}
