"""The tasks that gather a page's data in one worker round trip: a resource (its description and
what its kind of page shows), the home page, the coverage map and the ontology."""

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from pyoxigraph import NamedNode, Store, serialize

from kg.server.negotiation import RDF as RDF_FORMATS
from kg.server.task import Task
from kg.site import kinds
from kg.site.graph_reads import (
    Description,
    TreeNode,
    describe,
    exists,
    first_value,
    labels_of,
    select,
    stating_graphs,
    subjects,
    taxonomy_tree,
)
from kg.store import Snapshot
from kg.vocab import DCTERMS, KG, KG_NS, ONTOLOGY_IRI, PREFIXES, PROV, RDF


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
        if format_name is not None:
            return serialize(
                description.triples(), format=RDF_FORMATS[format_name], prefixes=PREFIXES
            )
        kind = kinds.kind_of(store, node, description.types)
        page = ResourcePage(description, kind, _graphs_of(store, node))
        page.extra = kinds.READERS.get(kind, _nothing)(store, node, max(self.page, 1))
        return page


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
  VALUES ?class { kg:Mitigation kg:SourceDocument kg:Author kg:Heading }
  ?s a ?class
} GROUP BY ?class"""

ENTRIES = "SELECT (COUNT(*) AS ?n) WHERE { ?m kg:navigatorId ?id }"
FILES = "SELECT (COUNT(*) AS ?n) WHERE { ?g kg:sourceFile ?f }"
DOCUMENT_SIZES = "SELECT ?d (COUNT(*) AS ?n) WHERE { ?m kg:sourceDocument ?d } GROUP BY ?d"
#: Documents the home page lists, most mitigations first.
HOME_DOCUMENTS = 200


def _documents(store: Store) -> list[tuple[str, str, str | None, int]]:
    """(IRI, title, year, mitigations) of the documents with most mitigations."""
    sizes = {row["d"].value: int(row["n"].value) for row in select(store, DOCUMENT_SIZES)}
    found = [
        (
            document.value,
            first_value(store, document, DCTERMS.title) or document.value,
            first_value(store, document, DCTERMS.issued),
            sizes.get(document.value, 0),
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
        counts = {row["class"].value: int(row["n"].value) for row in select(store, CLASS_COUNTS)}
        return {
            "counts": {
                "mitigations": counts.get(KG_NS + "Mitigation", 0),
                "entries": _number(select(store, ENTRIES)),
                "documents": counts.get(KG_NS + "SourceDocument", 0),
                "authors": counts.get(KG_NS + "Author", 0),
                "files": _number(select(store, FILES)),
            },
            "schemes": {name: taxonomy_tree(store, self.base_iri, name) for name in kinds.SCHEMES},
            "documents": _documents(store),
        }


def _number(rows: list[dict]) -> int:
    return int(rows[0]["n"].value) if rows and "n" in rows[0] else 0


#: `?this` is the property that classifies a mitigation in the dimension.
CROSS_COUNTS = """
SELECT ?this ?c ?v (COUNT(DISTINCT ?m) AS ?n) WHERE { ?m kg:category ?c ; ?this ?v }
GROUP BY ?this ?c ?v"""


@dataclass(frozen=True)
class CoverageTask(Task):
    """Mitigation counts per category (its descendants included) × each value of a dimension:
    counted per own category in the engine, added up the taxonomy here (the same with
    `skos:broader*` in the query costs three times as much)."""

    snapshot: Snapshot
    base_iri: str
    dimension: str  # a key of kinds.DIMENSIONS

    def run(self) -> dict:
        store = self.snapshot.open()
        scheme, predicate = kinds.DIMENSIONS[self.dimension]
        rows: list[TreeNode] = taxonomy_tree(store, self.base_iri, "mitigation")
        columns = taxonomy_tree(store, self.base_iri, scheme)
        parent = {row.iri: row.broader for row in rows}
        cells: dict[tuple[str, str], int] = defaultdict(int)
        # A mitigation has exactly one category (the shapes require it), so the counts of a
        # category's descendants add up to its own.
        for row in select(store, CROSS_COUNTS, NamedNode(KG_NS + predicate)):
            category, seen = row["c"].value, set()
            while category is not None and category not in seen:
                seen.add(category)
                cells[category, row["v"].value] += int(row["n"].value)
                category = parent.get(category)
        return {"rows": rows, "columns": columns, "cells": cells}


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
  VALUES ?link { rdfs:subClassOf rdfs:subPropertyOf rdfs:domain rdfs:range owl:inverseOf }
  ?term ?link ?target .
  FILTER(STRSTARTS(STR(?term), STR(kg:)) && isIRI(?target))
}"""

ONTOLOGY_HEADER = "SELECT ?this ?p ?o WHERE { ?this ?p ?o FILTER(isLiteral(?o) || isIRI(?o)) }"


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
            if row["term"].value in terms:
                link = row["link"].value.rsplit("#", 1)[1]
                terms[row["term"].value]["links"].setdefault(link, []).append(row["target"].value)
                targets.add(row["target"].value)
        labels = labels_of(store, [NamedNode(t) for t in targets])
        header = [
            (row["p"].value, row["o"])
            for row in select(store, ONTOLOGY_HEADER, NamedNode(ONTOLOGY_IRI))
        ]
        schemes = {name: taxonomy_tree(store, self.base_iri, name) for name in kinds.SCHEMES}
        ordered = sorted(terms.values(), key=lambda t: t["iri"].rsplit("#", 1)[1].casefold())
        return {"terms": ordered, "labels": labels, "header": header, "schemes": schemes}
