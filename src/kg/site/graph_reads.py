"""Reads of the store that every page kind shares, run in worker processes: a resource's concise
bounded description, display labels, lookups in the default graph and the sort orders of codes
(taxonomy trees and the mitigations under a concept are `trees`)."""

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import islice

from cachetools import LRUCache
from pyoxigraph import BlankNode, DefaultGraph, Literal, NamedNode, Quad, Store, Variable

from kg.vocab import (
    BIBO,
    DCTERMS,
    DCTERMS_NS,
    FOAF_NS,
    KG,
    OWL_NS,
    PREFIXES,
    RDFS_NS,
    SKOS_NS,
)

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
    outgoing.sort(key=lambda q: (q.subject != node, _predicate_key(q.predicate), str(q.object)))
    incoming = list(islice(store.quads_for_pattern(None, None, node, default), MAX_INCOMING + 1))
    more_incoming = len(incoming) > MAX_INCOMING
    incoming.sort(key=lambda q: (_predicate_key(q.predicate), str(q.subject)))
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
    description.labels = labels_of(store, neighbours)
    return description


_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_MEMBER = "http://www.w3.org/1999/02/22-rdf-syntax-ns#_"


def _predicate_key(predicate: NamedNode) -> tuple:
    """rdf:type first, container slots in numeric order (rdf:_2 before rdf:_10), then by IRI."""
    iri = predicate.value
    if predicate == _TYPE:
        return (0, 0, "")
    if iri.startswith(_MEMBER) and iri[len(_MEMBER) :].isdigit():
        return (1, int(iri[len(_MEMBER) :]), "")
    return (2, 0, iri)


def _is_iri(term: object) -> bool:
    return isinstance(term, NamedNode)


class _PerSnapshot:
    """Values computed once from the snapshot a worker reads, dropped when it reads another."""

    def __init__(self) -> None:
        self.store: Store | None = None
        self.values: dict = {}

    def get(self, store: Store, key: str, compute):
        if store is not self.store:
            self.store, self.values = store, {}
        if key not in self.values:
            self.values[key] = compute()
        return self.values[key]


_per_snapshot = _PerSnapshot()


def kept_for_snapshot(store: Store, key: str, compute):
    """`compute()`, once per worker and snapshot (key names the value)."""
    return _per_snapshot.get(store, key, compute)


#: Nodes whose labels a worker keeps for its snapshot: pages share most of what they name
#: (taxonomy concepts, documents, properties).
LABELS_KEPT = 100_000


def _label_quads_of(store: Store, node: NamedNode) -> list[Quad]:
    kept = _per_snapshot.get(store, "label quads", lambda: LRUCache(LABELS_KEPT))
    found = kept.get(node)
    if found is None:
        default = DefaultGraph()
        found = [
            quad
            for predicate in LABELS
            for quad in store.quads_for_pattern(node, predicate, None, default)
        ]
        kept[node] = found
    return found


def _shown_label(store: Store, node: NamedNode) -> str | None:
    kept = _per_snapshot.get(store, "shown labels", lambda: LRUCache(LABELS_KEPT))
    if node not in kept:
        label = _best(_by_predicate(_label_quads_of(store, node)))
        kept[node] = label if label is not None else _fallback_label(store, node)
    return kept[node]


def label_quads(store: Store, nodes: Iterable[NamedNode]) -> list[Quad]:
    """The label statements of `nodes` (every label property, every language)."""
    return [quad for node in set(nodes) for quad in _label_quads_of(store, node)]


def labels_of(store: Store, nodes: Iterable[NamedNode]) -> dict[str, str]:
    """One label per node: the first label property that has one (English, else untagged, else
    any language), else for an entry without a name its twin's name or its quotation's start."""
    found = {}
    for node in set(nodes):
        label = _shown_label(store, node)
        if label is not None:
            found[node.value] = label
    return found


def _by_predicate(quads: Iterable[Quad]) -> dict[NamedNode, list[Literal]]:
    found: dict[NamedNode, list[Literal]] = defaultdict(list)
    for quad in quads:
        if isinstance(quad.object, Literal):
            found[quad.predicate].append(quad.object)
    return found


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
            twin = _best(_by_predicate(_label_quads_of(store, quad.object)))
            if twin is not None:
                return twin
    for quad in store.quads_for_pattern(node, KG.quotation, None, default):
        text = " ".join(quad.object.value.split())
        return text if len(text) <= QUOTE_LABEL else text[: QUOTE_LABEL - 1].rstrip() + "…"
    for quad in store.quads_for_pattern(node, NOTATION, None, default):
        return quad.object.value
    # Nodes that exist for a document: its heading scheme and its list of authors.
    for quad in store.quads_for_pattern(node, KG.inDocument, None, default):
        title = first_value(store, quad.object, DCTERMS.title)
        if title is not None:
            return f"Headings of {title}"
    for quad in store.quads_for_pattern(None, BIBO.authorList, node, default):
        title = first_value(store, quad.subject, DCTERMS.title)
        if title is not None:
            return f"Authors of {title}"
    return None


def select(store: Store, sparql: str, this: NamedNode | None = None) -> list[dict]:
    """Rows of a SELECT as dicts of terms; `?this` is bound to `this` as a value (the query must
    project it, as pyoxigraph's substitutions require). pyoxigraph applies a substitution after
    evaluating the pattern, so it suits small patterns; the site's lists and counts read the
    store's indexes or run aggregates without one."""
    options = {"substitutions": {THIS: this}} if this is not None else {}
    solutions = store.query(sparql, prefixes=PREFIXES, **options)
    names = [v.value for v in solutions.variables]
    return [{n: row[n] for n in names if row[n] is not None} for row in solutions]


# --- lookups in the default graph ----------------------------------------------------------


def objects(store: Store, subject: NamedNode, predicate: NamedNode) -> list:
    return [q.object for q in store.quads_for_pattern(subject, predicate, None, DefaultGraph())]


def subjects(store: Store, predicate: NamedNode, obj: NamedNode) -> list[NamedNode]:
    return [
        q.subject
        for q in store.quads_for_pattern(None, predicate, obj, DefaultGraph())
        if isinstance(q.subject, NamedNode)
    ]


def first_value(store: Store, subject: NamedNode, predicate: NamedNode) -> str | None:
    found = next(store.quads_for_pattern(subject, predicate, None, DefaultGraph()), None)
    return found.object.value if found is not None else None


def stating_graphs(store: Store, node: NamedNode) -> list[NamedNode]:
    """The named graphs that state the resource (everything kg states has a type, and its
    other statements may be long texts repeated in every graph of a document)."""
    graphs = {
        quad.graph_name
        for quad in store.quads_for_pattern(node, _TYPE, None, None)
        if isinstance(quad.graph_name, NamedNode)
    }
    return sorted(graphs, key=lambda graph: graph.value)


def category_notation(store: Store, mitigation: NamedNode) -> str | None:
    """The code of the mitigation's category as lists show it ("2.4.1", or "v1 1.1")."""
    for predicate, marker in CATEGORY_CLASSIFIERS:
        for category in objects(store, mitigation, predicate):
            code = first_value(store, category, NOTATION)
            return marker + code if code is not None else None
    return None


def ancestry(store: Store, concept: NamedNode) -> list[NamedNode]:
    """The concept's broader concepts up to the top, top first, then the concept (the first
    broader one where there are several; cycles are cut)."""
    path = [concept]
    while len(path) < 32:
        broader = [b for b in objects(store, path[-1], BROADER) if isinstance(b, NamedNode)]
        if not broader or broader[0] in path:
            break
        path.append(sorted(broader, key=lambda b: b.value)[0])
    return path[::-1]


#: What places a mitigation in a category, the current taxonomy's first (their codes are shown
#: beside mitigations; a v1 code is marked as one: the two taxonomies share their code shapes).
CATEGORY_CLASSIFIERS = [(KG.category, ""), (KG.categoryV1, "v1 ")]
CATEGORY_MARKERS = dict(CATEGORY_CLASSIFIERS)
BROADER = NamedNode(SKOS_NS + "broader")
IN_SCHEME = NamedNode(SKOS_NS + "inScheme")


@lru_cache(maxsize=4096)  # the same few hundred codes sort thousands of members
def notation_key(code: str | None) -> tuple:
    """Notations in numeric order (2.10 after 2.9), then v1 ones ("v1 1.2"), others after them,
    none last."""
    if code is None:
        return (3, ())
    rank, digits = (1, code[3:]) if code.startswith("v1 ") else (0, code)
    parts = digits.split(".")
    if all(p.isdigit() for p in parts):
        return (rank, tuple(int(p) for p in parts))
    return (2, natural_key(code))


@lru_cache(maxsize=4096)
def natural_key(text: str) -> tuple:
    """Text with its numbers compared as numbers: "MEASURE 2.10" after "MEASURE 2.9"."""
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text))
