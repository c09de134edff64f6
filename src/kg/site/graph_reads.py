"""Reads of the store that every page kind shares, run in worker processes: a resource's concise
bounded description, display labels, and SKOS trees with mitigation counts."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice

from pyoxigraph import BlankNode, DefaultGraph, Literal, NamedNode, Quad, Store, Variable

from kg.vocab import DCTERMS_NS, FOAF_NS, KG, OWL_NS, PREFIXES, RDFS_NS, SKOS_NS

#: Incoming arcs a description holds at most (a category may be the object of thousands).
MAX_INCOMING = 500
#: Statements about blank nodes a description follows at most (their closure, as in a CBD).
MAX_BLANK = 200
#: Characters of a quotation that stand for an entry that has no name.
QUOTE_LABEL = 90

LABELS = [
    NamedNode(SKOS_NS + "prefLabel"),
    NamedNode(RDFS_NS + "label"),
    NamedNode(DCTERMS_NS + "title"),
    NamedNode(FOAF_NS + "name"),
]
NOTATION = NamedNode(SKOS_NS + "notation")
SAME_AS = NamedNode(OWL_NS + "sameAs")
THIS = Variable("this")


@dataclass
class Description:
    """A resource's statements both ways, what they point to named, and the graphs stating it."""

    iri: str
    types: list[str]
    outgoing: list[Quad]  # in the default graph, blank-node closure included
    incoming: list[Quad]
    more_incoming: bool
    labels: dict[str, str] = field(default_factory=dict)
    label_quads: list[Quad] = field(default_factory=list)

    def triples(self) -> list[Quad]:
        return self.outgoing + self.incoming + self.label_quads


def exists(store: Store, node: NamedNode) -> bool:
    return (
        next(store.quads_for_pattern(node, None, None, None), None) is not None
        or next(store.quads_for_pattern(None, None, node, None), None) is not None
        or store.contains_named_graph(node)
    )


def describe(store: Store, node: NamedNode) -> Description:
    default = DefaultGraph()
    outgoing = list(store.quads_for_pattern(node, None, None, default))
    blanks = [q.object for q in outgoing if isinstance(q.object, BlankNode)]
    seen = set()
    while blanks and len(outgoing) < MAX_BLANK + len(blanks):
        blank = blanks.pop()
        if blank in seen:
            continue
        seen.add(blank)
        more = list(store.quads_for_pattern(blank, None, None, default))
        outgoing.extend(more)
        blanks.extend(q.object for q in more if isinstance(q.object, BlankNode))
    incoming = list(islice(store.quads_for_pattern(None, None, node, default), MAX_INCOMING + 1))
    more_incoming = len(incoming) > MAX_INCOMING
    description = Description(
        iri=node.value,
        types=[q.object.value for q in outgoing if q.subject == node and q.predicate == _TYPE],
        outgoing=outgoing,
        incoming=incoming[:MAX_INCOMING],
        more_incoming=more_incoming,
    )
    neighbours = {node}
    for quad in description.outgoing + description.incoming:
        neighbours.update(t for t in (quad.subject, quad.predicate, quad.object) if _is_iri(t))
    description.label_quads = label_quads(store, neighbours)
    description.labels = display_labels(store, description.label_quads, neighbours)
    return description


_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


def _is_iri(term: object) -> bool:
    return isinstance(term, NamedNode)


def label_quads(store: Store, nodes: Iterable[NamedNode]) -> list[Quad]:
    """The label statements of `nodes` (every label property, every language)."""
    found = []
    default = DefaultGraph()
    for node in nodes:
        for predicate in LABELS:
            found.extend(store.quads_for_pattern(node, predicate, None, default))
    return found


def display_labels(
    store: Store, quads: Iterable[Quad], nodes: Iterable[NamedNode]
) -> dict[str, str]:
    """One label per node: the first label property that has one (English, else untagged, else
    any language), else for an entry without a name its twin's name or its quotation's start."""
    by_node: dict[str, dict[NamedNode, list[Literal]]] = defaultdict(lambda: defaultdict(list))
    for quad in quads:
        if isinstance(quad.object, Literal):
            by_node[quad.subject.value][quad.predicate].append(quad.object)
    labels = {}
    for node in nodes:
        label = _best(by_node.get(node.value, {}))
        if label is None:
            label = _fallback_label(store, node)
        if label is not None:
            labels[node.value] = label
    return labels


def label_of(store: Store, node: NamedNode) -> str | None:
    return display_labels(store, label_quads(store, [node]), [node]).get(node.value)


def labels_of(store: Store, nodes: Iterable[NamedNode]) -> dict[str, str]:
    nodes = list(nodes)
    return display_labels(store, label_quads(store, nodes), nodes)


def _best(by_predicate: dict[NamedNode, list[Literal]]) -> str | None:
    for predicate in LABELS:
        literals = by_predicate.get(predicate)
        if literals:
            ranked = sorted(literals, key=lambda lit: (lit.language not in ("en", None), lit.value))
            return ranked[0].value
    return None


def _fallback_label(store: Store, node: NamedNode) -> str | None:
    default = DefaultGraph()
    for quad in store.quads_for_pattern(node, SAME_AS, None, default):
        if isinstance(quad.object, NamedNode):
            twin = _best(_label_map(store, quad.object))
            if twin is not None:
                return twin
    for quad in store.quads_for_pattern(node, KG.quotation, None, default):
        text = " ".join(quad.object.value.split())
        return text if len(text) <= QUOTE_LABEL else text[: QUOTE_LABEL - 1].rstrip() + "…"
    for quad in store.quads_for_pattern(node, NOTATION, None, default):
        return quad.object.value
    return None


def _label_map(store: Store, node: NamedNode) -> dict[NamedNode, list[Literal]]:
    found: dict[NamedNode, list[Literal]] = defaultdict(list)
    for quad in label_quads(store, [node]):
        if isinstance(quad.object, Literal):
            found[quad.predicate].append(quad.object)
    return found


def select(store: Store, sparql: str, this: NamedNode | None = None) -> list[dict]:
    """Rows of a SELECT as dicts of terms; `?this` is bound to `this` as a value (the query must
    project it, as pyoxigraph's substitutions require)."""
    options = {"substitutions": {THIS: this}} if this is not None else {}
    solutions = store.query(sparql, prefixes=PREFIXES, **options)
    names = [v.value for v in solutions.variables]
    return [{n: row[n] for n in names if row[n] is not None} for row in solutions]


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


SCHEME_CONCEPTS = """
SELECT ?this ?c ?notation ?broader WHERE {
  ?c skos:inScheme ?this .
  OPTIONAL { ?c skos:notation ?notation }
  OPTIONAL { ?c skos:broader ?broader }
}"""

SCHEME_COUNTS = """
SELECT ?this ?c (COUNT(DISTINCT ?m) AS ?n) WHERE {
  ?c skos:inScheme ?this .
  ?m ?p ?c .
  ?m a kg:Mitigation .
} GROUP BY ?this ?c"""


def scheme_tree(store: Store, scheme: NamedNode) -> list[TreeNode]:
    """The scheme's concepts in tree order (by notation, else label), with mitigation counts
    that include the concepts below (a concept under several broader ones counts in each)."""
    rows = select(store, SCHEME_CONCEPTS, scheme)
    concepts: dict[str, TreeNode] = {}
    for row in rows:
        iri = row["c"].value
        node = concepts.get(iri)
        if node is None:
            notation = row["notation"].value if "notation" in row else None
            node = concepts[iri] = TreeNode(iri, "", notation, None)
        if "broader" in row and node.broader is None:
            node.broader = row["broader"].value
    labels = labels_of(store, [NamedNode(i) for i in concepts])
    for node in concepts.values():
        node.label = labels.get(node.iri, node.notation or node.iri)
    for row in select(store, SCHEME_COUNTS, scheme):
        concepts[row["c"].value].direct = int(row["n"].value)
    children: dict[str | None, list[TreeNode]] = defaultdict(list)
    for node in concepts.values():
        parent = node.broader if node.broader in concepts else None
        children[parent].append(node)
    ordered: list[TreeNode] = []

    def walk(parent: str | None, depth: int, path: tuple[str, ...]) -> int:
        total = 0
        for node in sorted(children.get(parent, []), key=_tree_order):
            if node.iri in path:  # a cycle in broader: stop rather than recurse forever
                continue
            node.depth = depth
            ordered.append(node)
            node.total = node.direct + walk(node.iri, depth + 1, (*path, node.iri))
            total += node.total
        return total

    walk(None, 0, ())
    return ordered


def _tree_order(node: TreeNode) -> tuple:
    if node.notation is not None:
        parts = node.notation.split(".")
        if all(p.isdigit() for p in parts):
            return (0, tuple(int(p) for p in parts), "")
    return (1, (), node.label.casefold())
