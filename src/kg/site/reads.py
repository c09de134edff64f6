"""The tasks that gather a page's data in one worker round trip: a resource (its description and
what its kind of page shows), the home page, the coverage maps (`coverage`) and the ontology.
Workers import this module when they start, and with it every task a page runs."""

import json
from dataclasses import dataclass, field
from typing import Any

import rdflib
from pyoxigraph import BlankNode, NamedNode, Store, serialize

from kg.jsonld_context import context
from kg.rdflib_terms import to_rdflib
from kg.server.negotiation import RDF as RDF_FORMATS
from kg.server.task import Task
from kg.site import kinds
from kg.site.coverage import CoverageTask
from kg.site.graph_reads import (
    Description,
    describe,
    exists,
    first_value,
    kept_for_snapshot,
    labels_of,
    select,
    stating_graphs,
    subjects,
)
from kg.site.trees import crosswalk_graphs, taxonomy_tree
from kg.store import Snapshot
from kg.vocab import DCTERMS, KG, KG_NS, ONTOLOGY_IRI, PREFIXES, PROV, RDF, Iris


@dataclass
class ResourcePage:
    """What a resource's HTML page shows: its description, its kind, and the kind's lists."""

    description: Description
    kind: str
    graphs: list["Statement"]  # the named graphs stating the resource, with their provenance
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ResourceTask(Task):
    """The resource named by the first candidate IRI the graph has, as that candidate's view asks:
    its RDF description serialized (a format name), or its page's data (None). Returns the index
    of the candidate found and what it asked for, or None when the graph has none of them."""

    snapshot: Snapshot
    candidates: tuple[tuple[str, str | None], ...]
    page: int = 1

    def run(self) -> tuple[int, bytes | ResourcePage] | None:
        store = self.snapshot.open()
        for index, (iri, format_name) in enumerate(self.candidates):
            try:
                node = NamedNode(iri)
            except ValueError:  # not an IRI (a path with spaces, say): nothing to find
                continue
            if exists(store, node):
                return index, self._read(store, node, format_name)
        return None

    def _read(self, store: Store, node: NamedNode, format_name: str | None):
        description = describe(store, node)
        if format_name == "jsonld":
            return compacted(description.triples(), kg_context(store))
        if format_name is not None:
            return serialize(
                description.triples(), format=RDF_FORMATS[format_name], prefixes=PREFIXES
            )
        kind = kinds.kind_of(store, node, description.types)
        page = ResourcePage(description, kind, _graphs_of(store, node))
        page.extra = kinds.READERS.get(kind, _nothing)(store, node, max(self.page, 1))
        return page


def kg_context(store: Store) -> dict:
    """kg's JSON-LD context, as the snapshot's ontology makes it (kept per snapshot)."""
    return kept_for_snapshot(store, "json-ld context", lambda: context(store))


def compacted(triples, context_document: dict) -> bytes:
    """Triples as JSON-LD compacted with kg's context, which the document carries inline (the
    same as `/ontology/context.jsonld`), so that a client needs nothing else to read it."""
    graph = rdflib.Graph()
    for triple in triples:
        graph.add(
            tuple(to_rdflib(term) for term in (triple.subject, triple.predicate, triple.object))
        )
    return graph.serialize(format="json-ld", context=context_document["@context"]).encode()


@dataclass(frozen=True)
class ContextTask(Task):
    """kg's JSON-LD context, as served at /ontology/context.jsonld."""

    snapshot: Snapshot

    def run(self) -> bytes:
        return json.dumps(kg_context(self.snapshot.open()), indent=2).encode()


__all__ = ["ContextTask", "CoverageTask", "HomeTask", "OntologyTask", "ResourceTask"]


def _nothing(store: Store, node: NamedNode, page: int) -> dict:
    return {}


@dataclass(frozen=True)
class Statement:
    """A named graph that states something about a resource: the file it was loaded from and
    when (None for graphs not loaded from a file, such as derived ones)."""

    graph: str
    file: str | None
    loaded: str | None


def _graphs_of(store: Store, node: NamedNode) -> list[Statement]:
    return [
        Statement(
            graph.value,
            first_value(store, graph, KG.sourceFile),
            first_value(store, graph, PROV.generatedAtTime),
        )
        for graph in stating_graphs(store, node)
    ]


# --- the home page, the coverage map, the ontology -------------------------------------------

# A graph holds each statement once, so COUNT(*) counts distinct subjects here (and DISTINCT
# would cost a hash of every one).
CLASS_COUNTS = """
SELECT ?class (COUNT(*) AS ?n) WHERE {
  VALUES ?class {
    kg:Mitigation kg:SourceDocument kg:Author kg:Heading kg:RiskCategory kg:ActorTask
    kg:RmfCategory kg:RmfSubcategory kg:RmfAction kg:MitigationCategoryV1
  }
  ?s a ?class
} GROUP BY ?class"""

ENTRIES = "SELECT (COUNT(*) AS ?n) WHERE { ?m kg:navigatorId ?id }"
#: The AI Atlas Nexus records, and their documents: kg's documents have no identifier.
RECORDS = """
SELECT (COUNT(DISTINCT ?m) AS ?records) (COUNT(DISTINCT ?d) AS ?documents) WHERE {
  ?d dcterms:identifier ?id ; a kg:SourceDocument . ?m kg:sourceDocument ?d
}"""
FILES = "SELECT (COUNT(*) AS ?n) WHERE { ?g kg:sourceFile ?f }"
#: Navigator entries that are Nexus records too.
TWINS = """
SELECT (COUNT(*) AS ?n) WHERE {
  ?r dcterms:identifier ?x . ?m owl:sameAs ?r FILTER EXISTS { ?m kg:navigatorId ?id }
}"""
DOCUMENT_SIZES = "SELECT ?d (COUNT(*) AS ?n) WHERE { ?m kg:sourceDocument ?d } GROUP BY ?d"
#: Documents the home page lists, most mitigations first.
HOME_DOCUMENTS = 200


def _documents(store: Store) -> list[tuple[str, str, str | None, int, bool]]:
    """(IRI, title, year, mitigations, from the AI Atlas Nexus) of the documents with most
    mitigations."""
    sizes = {row["d"].value: int(row["n"].value) for row in select(store, DOCUMENT_SIZES)}
    found = [
        (
            document.value,
            first_value(store, document, DCTERMS.title) or document.value,
            first_value(store, document, DCTERMS.issued),
            sizes.get(document.value, 0),
            first_value(store, document, DCTERMS.identifier) is not None,
        )
        for document in subjects(store, RDF.type, KG.SourceDocument)
    ]
    found.sort(key=lambda d: (-d[3], d[1].casefold(), d[0]))
    return found[:HOME_DOCUMENTS]


@dataclass(frozen=True)
class HomeTask(Task):
    snapshot: Snapshot
    base_iri: str

    def run(self) -> dict:
        store = self.snapshot.open()
        by_class = {row["class"].value: int(row["n"].value) for row in select(store, CLASS_COUNTS)}
        counts = {
            name: by_class.get(KG_NS + cls, 0)
            for name, cls in (
                ("mitigations", "Mitigation"),
                ("documents", "SourceDocument"),
                ("authors", "Author"),
                ("risks", "RiskCategory"),
                ("tasks", "ActorTask"),
                ("rmf_categories", "RmfCategory"),
                ("rmf_subcategories", "RmfSubcategory"),
                ("actions", "RmfAction"),
                ("v1_categories", "MitigationCategoryV1"),
            )
        }
        for name, sparql in (("entries", ENTRIES), ("twins", TWINS), ("files", FILES)):
            counts[name] = _number(select(store, sparql))
        records = select(store, RECORDS)[0]
        counts["records"] = int(records["records"].value)
        counts["record_documents"] = int(records["documents"].value)
        imported = [name for name, _, _ in kinds.IMPORTED_SCHEMES]
        schemes = {name: taxonomy_tree(store, self.base_iri, name) for name in kinds.SCHEMES}
        schemes.update({name: taxonomy_tree(store, self.base_iri, name) for name in imported})
        iris = Iris(self.base_iri)
        crosswalks = crosswalk_graphs(store)
        return {
            "counts": counts,
            "schemes": schemes,
            "imported": kinds.IMPORTED_SCHEMES,
            "imported_present": any(schemes[name] for name in imported),
            "crosswalks": {name: crosswalks.get(iris.scheme(name).value, []) for name in imported},
            "documents": _documents(store),
        }


def _number(rows: list[dict]) -> int:
    return int(rows[0]["n"].value) if rows and "n" in rows[0] else 0


ONTOLOGY_TERMS = """
SELECT ?term ?kind ?label ?definition ?comment WHERE {
  GRAPH ?g {
    VALUES ?kind { owl:Class owl:ObjectProperty owl:DatatypeProperty owl:AnnotationProperty }
    ?term a ?kind .
    FILTER(STRSTARTS(STR(?term), STR(kg:)))
    OPTIONAL { ?term rdfs:label ?label }
    OPTIONAL { ?term skos:definition ?definition }
    OPTIONAL { ?term rdfs:comment ?comment }
  }
}"""

TERM_LINKS = """
SELECT ?term ?link ?target WHERE {
  VALUES ?link { rdfs:subClassOf rdfs:subPropertyOf rdfs:domain rdfs:range owl:inverseOf
    skos:exactMatch skos:closeMatch skos:broadMatch skos:narrowMatch skos:relatedMatch }
  ?term ?link ?target .
  FILTER(STRSTARTS(STR(?term), STR(kg:)))
}"""

# Blank nodes are left out here, not by isIRI in the queries: on a remote engine they are skolem
# IRIs, which only kg's reader turns back into blank nodes (kg.remote.terms).
ONTOLOGY_HEADER = "SELECT ?this ?p ?o WHERE { ?this ?p ?o }"


@dataclass(frozen=True)
class OntologyTask(Task):
    snapshot: Snapshot
    base_iri: str

    def run(self) -> dict:
        store = self.snapshot.open()
        terms: dict[str, dict] = {}
        for row in select(store, ONTOLOGY_TERMS):
            term = terms.setdefault(
                row["term"].value,
                {"iri": row["term"].value, "kinds": set(), "links": {}},
            )
            term["kinds"].add(row["kind"].value.rsplit("#", 1)[1])
            for name in ("label", "definition", "comment"):
                if name in row:
                    term.setdefault(name, row[name].value)
        targets = set()
        for row in select(store, TERM_LINKS):
            if row["term"].value in terms and isinstance(row["target"], NamedNode):
                link = row["link"].value.rsplit("#", 1)[1]
                terms[row["term"].value]["links"].setdefault(link, []).append(row["target"].value)
                targets.add(row["target"].value)
        for term in terms.values():  # the same order from every engine
            for targets_of_link in term["links"].values():
                targets_of_link.sort()
        labels = labels_of(store, [NamedNode(t) for t in targets])
        header = sorted(
            (
                (row["p"].value, row["o"])
                for row in select(store, ONTOLOGY_HEADER, NamedNode(ONTOLOGY_IRI))
                if not isinstance(row["o"], BlankNode)
            ),
            key=lambda pair: (pair[0], str(pair[1])),  # the same order from every engine
        )
        names = kinds.SCHEMES + [name for name, _, _ in kinds.IMPORTED_SCHEMES]
        trees = {name: taxonomy_tree(store, self.base_iri, name) for name in names}
        schemes = {name: tree for name, tree in trees.items() if tree}
        ordered = sorted(
            terms.values(), key=lambda t: (t["iri"].rsplit("#", 1)[1].casefold(), t["iri"])
        )
        return {"terms": ordered, "labels": labels, "header": header, "schemes": schemes}
