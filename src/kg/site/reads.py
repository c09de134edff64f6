"""The tasks that gather a page's data in one worker round trip: a resource (its description and
what its kind of page shows), the home page, the coverage map and the ontology."""

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
    scheme_tree,
    select,
    stating_graphs,
)
from kg.store import Snapshot
from kg.vocab import KG, KG_NS, ONTOLOGY_IRI, PREFIXES, PROV


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

CLASS_COUNTS = """
SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE {
  VALUES ?class { kg:Mitigation kg:SourceDocument kg:Author kg:Heading }
  ?s a ?class
} GROUP BY ?class"""

ENTRIES = "SELECT (COUNT(DISTINCT ?m) AS ?n) WHERE { ?m a kg:Mitigation ; kg:navigatorId ?id }"
FILES = """SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { ?g kg:sourceFile ?f }"""
#: Documents the home page lists, most mitigations first.
HOME_DOCUMENTS = 200
DOCUMENTS = f"""
SELECT ?d (SAMPLE(?t) AS ?title) (SAMPLE(?y) AS ?year) (COUNT(DISTINCT ?m) AS ?n) WHERE {{
  ?d a kg:SourceDocument .
  OPTIONAL {{ ?d dcterms:title ?t }}
  OPTIONAL {{ ?d dcterms:issued ?y }}
  OPTIONAL {{ ?m kg:sourceDocument ?d ; a kg:Mitigation }}
}} GROUP BY ?d ORDER BY DESC(?n) ?title LIMIT {HOME_DOCUMENTS}"""


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
            "schemes": {
                name: scheme_tree(store, NamedNode(self.base_iri + f"taxonomy/{name}"))
                for name in kinds.SCHEMES
            },
            "documents": [
                (
                    row["d"].value,
                    row["title"].value if "title" in row else row["d"].value,
                    row["year"].value if "year" in row else None,
                    int(row["n"].value),
                )
                for row in select(store, DOCUMENTS)
            ],
        }


def _number(rows: list[dict]) -> int:
    return int(rows[0]["n"].value) if rows and "n" in rows[0] else 0


#: `?this` is the property that classifies a mitigation in the dimension.
CROSS_COUNTS = """
SELECT ?this ?category ?value (COUNT(DISTINCT ?m) AS ?n) WHERE {
  ?m a kg:Mitigation ; kg:category ?own ; ?this ?value .
  ?own skos:broader* ?category .
} GROUP BY ?this ?category ?value"""


@dataclass(frozen=True)
class CoverageTask(Task):
    """Mitigation counts per category (its descendants included) × each value of a dimension."""

    snapshot: Snapshot
    base_iri: str
    dimension: str  # a key of kinds.DIMENSIONS

    def run(self) -> dict:
        store = self.snapshot.open()
        scheme, predicate = kinds.DIMENSIONS[self.dimension]
        rows: list[TreeNode] = scheme_tree(store, NamedNode(self.base_iri + "taxonomy/mitigation"))
        columns = scheme_tree(store, NamedNode(self.base_iri + f"taxonomy/{scheme}"))
        cells = {
            (row["category"].value, row["value"].value): int(row["n"].value)
            for row in select(store, CROSS_COUNTS, NamedNode(KG_NS + predicate))
        }
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
        schemes = {
            name: scheme_tree(store, NamedNode(self.base_iri + f"taxonomy/{name}"))
            for name in kinds.SCHEMES
        }
        ordered = sorted(terms.values(), key=lambda t: t["iri"].rsplit("#", 1)[1].casefold())
        return {"terms": ordered, "labels": labels, "header": header, "schemes": schemes}
