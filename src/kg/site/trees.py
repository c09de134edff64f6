"""Reads of the taxonomies, run in worker processes: the mitigations classified under a concept
(the concepts below it included), per-concept counts, the schemes mitigations are classified in,
crosswalk graphs, and SKOS trees with those counts, in the order people read them."""

from collections import defaultdict
from dataclasses import dataclass

from pyoxigraph import BlankNode, DefaultGraph, NamedNode, Store

from kg.site.graph_reads import (
    BROADER,
    CATEGORY_MARKERS,
    IN_SCHEME,
    NOTATION,
    category_notation,
    first_value,
    kept_for_snapshot,
    labels_of,
    natural_key,
    notation_key,
    objects,
    select,
    subjects,
)
from kg.vocab import KG, PROV, RDF_NS, SKOS_NS, Iris

_TYPE = NamedNode(RDF_NS + "type")

# --- mitigations classified under concepts ---------------------------------------------------
# Read from the store's indexes rather than by SPARQL: a property path over every mitigation of
# a large category costs tens of milliseconds in the query engine, the index lookups a few.

#: The properties that classify a mitigation under a concept (of a taxonomy, or a heading): a
#: navigator entry's category, stage, actor, RMF function and heading; a Nexus record's v1
#: category, the risks it addresses and the NIST AI RMF action it quotes.
CLASSIFIERS = [
    KG.category,
    KG.lifecycleStage,
    KG.actor,
    KG.rmfFunction,
    KG.sourceHeading,
    KG.categoryV1,
    KG.addressesRisk,
    PROV.wasQuotedFrom,
]


def narrower_closure(store: Store, concept: NamedNode) -> list[NamedNode]:
    """The concept and every concept below it (cycles in skos:broader are cut)."""
    found, queue = [concept], [concept]
    seen = {concept}
    while queue:
        for quad in store.quads_for_pattern(None, BROADER, queue.pop(), DefaultGraph()):
            if isinstance(quad.subject, NamedNode) and quad.subject not in seen:
                seen.add(quad.subject)
                found.append(quad.subject)
                queue.append(quad.subject)
    return found


DIRECT_COUNTS = f"""
SELECT ?c (COUNT(DISTINCT ?m) AS ?n) WHERE {{
  VALUES ?p {{ {" ".join(f"<{p.value}>" for p in CLASSIFIERS)} }}
  ?m ?p ?c
}} GROUP BY ?c"""


def direct_counts(store: Store) -> dict[str, int]:
    """Mitigations classified under exactly each concept, for every concept at once (one
    aggregate in the engine: counting from Python would build a term per statement), kept
    for the worker's snapshot."""
    return kept_for_snapshot(store, "direct counts", lambda: _count_rows(store, DIRECT_COUNTS))


def classifies(store: Store, scheme: NamedNode) -> bool:
    """Whether some mitigation is classified under a concept of the scheme (kept for the
    worker's snapshot): its concepts' pages list mitigations. Index lookups until one is found
    (a scheme of hundreds of concepts that classifies nothing costs a millisecond)."""

    def compute() -> bool:
        default = DefaultGraph()
        for quad in store.quads_for_pattern(None, IN_SCHEME, scheme, default):
            for predicate in CLASSIFIERS:
                if next(store.quads_for_pattern(None, predicate, quad.subject, default), None):
                    return True
        return False

    return kept_for_snapshot(store, "classifies " + scheme.value, compute)


CROSSWALKS = """
SELECT DISTINCT ?scheme ?g WHERE {
  GRAPH ?g { ?axiom a owl:Axiom ; owl:annotatedSource|owl:annotatedTarget ?concept }
  ?concept skos:inScheme ?scheme
}"""


def crosswalk_graphs(store: Store) -> dict[str, list[str]]:
    """The graphs of crosswalk mappings (owl:Axioms) to or from each scheme's concepts."""

    def compute() -> dict[str, list[str]]:
        found: dict[str, set[str]] = defaultdict(set)
        for row in select(store, CROSSWALKS):
            found[row["scheme"].value].add(row["g"].value)
        return {scheme: sorted(graphs) for scheme, graphs in found.items()}

    return kept_for_snapshot(store, "crosswalk graphs", compute)


def _count_rows(store: Store, sparql: str) -> dict[str, int]:
    return {row["c"].value: int(row["n"].value) for row in select(store, sparql)}


@dataclass
class Members:
    """Mitigations classified under a concept or a concept below it, as (IRI, category
    notation) in the order of their notations, then IRIs (a stable order for pages), and the
    concepts each is classified under."""

    ordered: list[tuple[str, str | None]]
    under: dict[NamedNode, set[NamedNode]]

    def count_below(self, concepts: set[NamedNode]) -> int:
        return sum(1 for found in self.under.values() if found & concepts)

    def page(self, store: Store, offset: int, size: int) -> list[tuple[str, str | None]]:
        """A page of members, each with its category's code."""
        return [
            (iri, code if code is not None else category_notation(store, NamedNode(iri)))
            for iri, code in self.ordered[offset : offset + size]
        ]


def members(store: Store, concept: NamedNode) -> Members:
    default = DefaultGraph()
    notation_of: dict[NamedNode, str | None] = {}

    def notation(category: NamedNode) -> str | None:
        if category not in notation_of:
            notation_of[category] = first_value(store, category, NOTATION)
        return notation_of[category]

    codes: dict[NamedNode, str | None] = {}
    under: dict[NamedNode, set[NamedNode]] = defaultdict(set)
    for below in narrower_closure(store, concept):
        for predicate in CLASSIFIERS:
            for quad in store.quads_for_pattern(None, predicate, below, default):
                mitigation = quad.subject
                under[mitigation].add(below)
                if predicate in CATEGORY_MARKERS:
                    code = notation(below)
                    if predicate == KG.category or mitigation not in codes:
                        codes[mitigation] = CATEGORY_MARKERS[predicate] + code if code else None
                elif mitigation not in codes:
                    codes[mitigation] = category_notation(store, mitigation)
    ordered = sorted(codes.items(), key=lambda item: (notation_key(item[1]), item[0].value))
    return Members([(m.value, code) for m, code in ordered], under)


# --- SKOS trees with counts ----------------------------------------------------------------------


@dataclass
class TreeNode:
    iri: str
    label: str
    notation: str | None
    broader: str | None
    direct: int = 0  # mitigations classified under exactly this concept
    total: int = 0  # … under it or any concept below it
    depth: int = 0


def taxonomy_tree(store: Store, base_iri: str, name: str) -> list[TreeNode]:
    """The tree of one of kg's taxonomies (`kinds.SCHEMES`) under a base IRI."""
    return scheme_tree(store, Iris(base_iri).scheme(name))


def scheme_tree(store: Store, scheme: NamedNode) -> list[TreeNode]:
    """The scheme's concepts in tree order (by notation, else label), with mitigation counts
    that include the concepts below (a concept under several broader ones counts in each);
    kept for the worker's snapshot (home, coverage, scheme pages and search read the same
    trees, one of them hundreds of concepts: the NIST AI RMF's). Callers do not change them."""
    return kept_for_snapshot(store, "tree " + scheme.value, lambda: _scheme_tree(store, scheme))


def _scheme_tree(store: Store, scheme: NamedNode) -> list[TreeNode]:
    # Read from the indexes: the same as a query would bind ?this after matching every
    # concept of every scheme (thousands of headings), for each tree.
    concepts: dict[str, TreeNode] = {}
    for quad in store.quads_for_pattern(None, IN_SCHEME, scheme, DefaultGraph()):
        concept = quad.subject
        if isinstance(concept, NamedNode) and concept.value not in concepts:
            notation = first_value(store, concept, NOTATION)
            broader = first_value(store, concept, BROADER)
            concepts[concept.value] = TreeNode(concept.value, "", notation, broader)
    if not concepts:  # no such scheme (the Nexus data not loaded, say)
        return []
    labels = labels_of(store, [NamedNode(i) for i in concepts])
    for node in concepts.values():
        node.label = labels.get(node.iri, node.notation or node.iri)
    counts = direct_counts(store)
    for iri, node in concepts.items():
        node.direct = counts.get(iri, 0)
    children: dict[str | None, list[TreeNode]] = defaultdict(list)
    for node in concepts.values():
        parent = node.broader if node.broader in concepts else None
        children[parent].append(node)
    position = listed_order(store)
    ordered: list[TreeNode] = []

    def walk(parent: str | None, depth: int, path: tuple[str, ...]) -> int:
        total = 0
        siblings = sorted(
            children.get(parent, []),
            key=lambda node: (position.get(node.iri, len(position)), _tree_order(node)),
        )
        for node in siblings:
            if node.iri in path:  # a cycle in broader: stop rather than recurse forever
                continue
            node.depth = depth
            ordered.append(node)
            node.total = node.direct + walk(node.iri, depth + 1, (*path, node.iri))
            total += node.total
        return total

    walk(None, 0, ())
    return ordered


def shown_depth(tree: list[TreeNode], most: int) -> int:
    """The deepest level of the tree whose nodes, with those above, are at most `most` (at least
    the top level): a tree of hundreds of concepts shows its upper levels."""
    per_level: dict[int, int] = defaultdict(int)
    for node in tree:
        per_level[node.depth] += 1
    depth, shown = 0, 0
    for level in sorted(per_level):
        shown += per_level[level]
        if shown > most and level > 0:
            break
        depth = level
    return depth


ORDERED_COLLECTION = NamedNode(SKOS_NS + "OrderedCollection")
MEMBER_LIST = NamedNode(SKOS_NS + "memberList")
FIRST = NamedNode(RDF_NS + "first")
REST = NamedNode(RDF_NS + "rest")


def listed_order(store: Store) -> dict[str, int]:
    """Positions of concepts in the taxonomies' ordered collections (skos:OrderedCollection),
    the order people read them in; concepts in none sort after, by notation or label. Kept for
    the worker's snapshot."""
    return kept_for_snapshot(store, "listed order", lambda: _listed_order(store))


def _listed_order(store: Store) -> dict[str, int]:
    default = DefaultGraph()
    position: dict[str, int] = {}
    for collection in subjects(store, _TYPE, ORDERED_COLLECTION):
        for head in objects(store, collection, MEMBER_LIST):
            index, cell, seen = 0, head, set()
            while isinstance(cell, BlankNode | NamedNode) and cell not in seen:
                seen.add(cell)
                first = next(store.quads_for_pattern(cell, FIRST, None, default), None)
                if first is None:
                    break
                position.setdefault(first.object.value, index)
                index += 1
                rest = next(store.quads_for_pattern(cell, REST, None, default), None)
                cell = rest.object if rest is not None else None
    return position


def _tree_order(node: TreeNode) -> tuple:
    if node.notation is not None:
        parts = node.notation.split(".")
        if all(p.isdigit() for p in parts):
            return (0, tuple(int(p) for p in parts))
    return (1, natural_key(node.label.casefold()))
