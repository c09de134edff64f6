"""Kinds of resource page, and what each kind's page lists beyond the resource's description.

Each reader runs in a worker (inside `ResourceTask`) and returns plain data for its template;
`?this` is bound to the resource as a value."""

from collections.abc import Callable

from pyoxigraph import DefaultGraph, NamedNode, Store

from kg.site import concepts
from kg.site.concepts import action
from kg.site.external import external_terms
from kg.site.graph_reads import (
    CATEGORY_CLASSIFIERS,
    NOTATION,
    ancestry,
    category_notation,
    first_value,
    labels_of,
    natural_key,
    notation_key,
    objects,
    select,
    stating_graphs,
    subjects,
)
from kg.vocab import BIBO, DCTERMS, KG, KG_NS, OWL, OWL_NS, PROV, RDF, RDF_NS, SKOS, SKOS_NS

RDF_MEMBER_PREFIX = RDF_NS + "_"

#: The taxonomies kg publishes (their schemes are `<base>taxonomy/<name>`).
SCHEMES = ["mitigation", "stage", "actor", "rmf-function"]
#: The taxonomies imported from the AI Atlas Nexus, as the home page introduces them: the
#: scheme's name, a short title, and the levels of its tree shown there.
IMPORTED_SCHEMES = [
    ("mitigation-v1", "Mitigation taxonomy, v1 draft", 0),
    ("genai-risk", "Risks of generative AI (NIST AI 600-1)", 0),
    ("risk-domain", "AI risk domains", 0),
    ("risk-cause", "Causes of AI risks", 1),
    ("actor-task", "AI actor tasks (NIST AI RMF)", 0),
]
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
    (OWL_NS + "Axiom", "mapping"),
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
    predicate, category = _category(store, node)
    path = ancestry(store, category) if category is not None else []
    if predicate == KG.categoryV1:  # a Nexus record: its document's records of its category
        related, in_document = _same_category(store, node, category)
    else:
        related, in_document = _listed_beside(store, node)
    headings = objects(store, node, KG.sourceHeading)
    heading_path = first_value(store, headings[0], KG.headingPath) if headings else None
    quoted = [action(store, a) for a in objects(store, node, PROV.wasQuotedFrom)]
    quoted_paths = {a.iri: ancestry(store, NamedNode(a.iri))[:-1] for a in quoted}
    twins = [
        (twin.value, category_notation(store, twin))
        for twin in _twins(store, node)
        if isinstance(twin, NamedNode)
    ]
    named = [*path, *(NamedNode(m) for m, _ in related), *(NamedNode(t) for t, _ in twins)]
    named += [c for steps in quoted_paths.values() for c in steps]
    return {
        "category_path": [(c.value, first_value(store, c, NOTATION)) for c in path],
        "v1": predicate == KG.categoryV1,
        "related": related,
        "in_document": in_document,
        "heading_path": heading_path,
        "quoted": [
            (a, [(c.value, first_value(store, c, NOTATION)) for c in quoted_paths[a.iri]])
            for a in quoted
        ],
        "twins": twins,  # (IRI, category code) of the same entry elsewhere (owl:sameAs)
        "external": external_terms(store, node),  # (relation, [(IRI, prefixed name)])
        "labels": labels_of(store, named),
    }


def _category(store: Store, node: NamedNode) -> tuple[NamedNode | None, NamedNode | None]:
    """The property classifying the mitigation in a mitigation taxonomy, and its category."""
    for predicate, _ in CATEGORY_CLASSIFIERS:
        for category in objects(store, node, predicate):
            if isinstance(category, NamedNode):
                return predicate, category
    return None, None


def _twins(store: Store, node: NamedNode) -> list:
    """What the graph says is the same resource, both ways."""
    return objects(store, node, OWL.sameAs) + subjects(store, OWL.sameAs, node)


def _listed_beside(store: Store, node: NamedNode) -> tuple[list, int]:
    """The entries the pages stating this one list beside it, as the navigator shows them: a
    document may have thousands, the page lists about ten."""
    related: list[tuple[str, str | None]] = []
    in_document = 0
    for document in objects(store, node, KG.sourceDocument)[:1]:
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
    return related, in_document


def _same_category(store: Store, node: NamedNode, category: NamedNode) -> tuple[list, int]:
    """The other records of the same document in the same v1 category (a Nexus file states
    every record of a document in one graph: hundreds, the same category a few)."""
    related: list[tuple[str, str | None]] = []
    in_document = 0
    for document in objects(store, node, KG.sourceDocument)[:1]:
        of_document = set(subjects(store, KG.sourceDocument, document))
        in_document = len(of_document)
        code = first_value(store, category, NOTATION)
        shown = "v1 " + code if code else None
        others = sorted(
            m.value
            for m in subjects(store, KG.categoryV1, category)
            if m in of_document and m != node
        )
        related = [(m, shown) for m in others[:RELATED]]
    return related, in_document


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
        predicate, category = _category(store, mitigation)
        code = first_value(store, category, NOTATION) if category is not None else None
        if code is not None and predicate == KG.categoryV1:
            code = "v1 " + code
        heading = (objects(store, mitigation, KG.sourceHeading) or [None])[0]
        rows.append(
            (
                mitigation.value,
                category.value if category else None,
                code,
                first_value(store, heading, KG.headingPath) if heading else None,
            )
        )
    rows.sort(key=lambda m: (notation_key(m[2]), m[0]))
    twins = [
        (twin.value, len(subjects(store, KG.sourceDocument, twin)))
        for twin in _twins(store, node)
        if isinstance(twin, NamedNode)
    ]
    sourced = _sourced(store, node)
    nodes = [*authors, *(NamedNode(r[0]) for r in rows)]
    nodes += [NamedNode(c) for c in {r[1] for r in rows if r[1]}]
    nodes += [NamedNode(t) for t, _ in twins]
    nodes += [NamedNode(i) for item in sourced for i in item[:2]]
    return {
        "authors": [a.value for a in authors],
        "mitigations": rows,  # (iri, category, code, heading path)
        "headed": any(r[3] for r in rows),
        "twins": twins,  # (IRI, mitigations) of the same document elsewhere (owl:sameAs)
        "sourced": sourced,
        "labels": labels_of(store, nodes),
    }


SOURCED = """
SELECT ?this ?scheme ?class (COUNT(*) AS ?n) WHERE {
  ?s dcterms:source ?this ; a ?class .
  OPTIONAL { ?s skos:inScheme ?in }
  BIND (COALESCE(?in, ?s) AS ?scheme)
  FILTER (?class != skos:Concept)
} GROUP BY ?this ?scheme ?class"""


def _sourced(store: Store, node: NamedNode) -> list[tuple[str, str, int]]:
    """What the graph takes from the document (dcterms:source): (scheme, class, how many) for
    concepts, by the scheme they are in and their class; (scheme, scheme, 1) for schemes."""
    found = []
    for row in select(store, SOURCED, node):
        scheme, cls = row["scheme"].value, row["class"].value
        if cls == SKOS.ConceptScheme.value:
            found.append((scheme, scheme, 1))
        else:
            found.append((scheme, cls, int(row["n"].value)))
    return sorted(found, key=lambda item: (item[0] != item[1], item))


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
    mappings = [
        (
            axiom.value,
            first_value(store, axiom, OWL.annotatedSource),
            first_value(store, axiom, OWL.annotatedProperty),
            first_value(store, axiom, OWL.annotatedTarget),
            first_value(store, axiom, KG.supportCount),
            first_value(store, axiom, KG.sourceCount),
        )
        for axiom in _typed(store, OWL.Axiom, node)
    ]
    mappings.sort(key=lambda m: (natural_key(m[1] or ""), natural_key(m[3] or "")))
    stated = {
        quad.subject
        for quad in store.quads_for_pattern(None, RDF.type, KG.Mitigation, node)
        if isinstance(quad.subject, NamedNode)
    }
    listed = sorted(
        ((m.value, category_notation(store, m)) for m in stated),
        key=lambda item: (notation_key(item[1]), item[0]),
    )[:GRAPH_MEMBERS]
    ends = {NamedNode(e) for m in mappings for e in (m[1], m[3]) if e}
    schemes = [
        _scheme_of(store, mappings[0][index]) if mappings else None for index in (1, 3)
    ]  # of the sources, of the targets
    labels = labels_of(store, [*(NamedNode(m) for m, _ in listed), *ends])
    labels.update(labels_of(store, [NamedNode(s) for s in schemes if s]))
    found = {
        "members": listed,
        "mappings": mappings,  # (axiom, source, property, target, support, linked)
        "schemes": schemes,
        "triples": sum(1 for _ in store.quads_for_pattern(None, None, None, node)),
        "labels": labels,
        "notations": {e.value: _coded(store, e) for e in ends},
    }
    if mappings and all(schemes):
        found["title"] = f"Crosswalk: {labels.get(schemes[0])} → {labels.get(schemes[1])}"
    return found


def _scheme_of(store: Store, concept: str | None) -> str | None:
    if concept is None:
        return None
    return first_value(store, NamedNode(concept), SKOS.inScheme)


def _coded(store: Store, concept: NamedNode) -> str | None:
    """A category's code as lists show it: a v1 one marked."""
    code = first_value(store, concept, NOTATION)
    v1 = store.quads_for_pattern(concept, RDF.type, KG.MitigationCategoryV1, DefaultGraph())
    if code is not None and next(v1, None) is not None:
        return "v1 " + code
    return code


def mapping(store: Store, node: NamedNode, page: int) -> dict:
    """A crosswalk mapping's two ends, named with their codes."""
    ends = [first_value(store, node, p) for p in (OWL.annotatedSource, OWL.annotatedTarget)]
    named = [NamedNode(e) for e in ends if e]
    labels = labels_of(store, named)
    shown = []
    for end in named:
        code, label = _coded(store, end), labels.get(end.value, "")
        shown.append(f"{code} {label}".strip() if code else label)
    found: dict = {"labels": labels}
    if len(shown) == 2 and all(shown):
        found["title"] = f"{shown[0]} → {shown[1]}"
    return found


def _typed(store: Store, cls: NamedNode, graph: NamedNode) -> list[NamedNode]:
    return [
        quad.subject
        for quad in store.quads_for_pattern(None, RDF.type, cls, graph)
        if isinstance(quad.subject, NamedNode)
    ]


READERS: dict[str, Callable[[Store, NamedNode, int], dict]] = {
    "mitigation": mitigation,
    "document": document,
    "concept": concepts.concept,
    "scheme": concepts.scheme,
    "author": author,
    "graph": graph,
    "mapping": mapping,
}
