"""The coverage maps: counts of mitigations (or NIST AI RMF actions) for each concept of a taxonomy
(the rows, descendants included) × each value of another dimension (the columns), so that gaps
show. Each map is a `Dimension`; the engine counts per own concept, and the counts are added up
the taxonomy here (the same with `skos:broader*` in the query costs three times as much)."""

from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import urlencode

from pyoxigraph import NamedNode, Store

from kg.server.task import Task
from kg.site.graph_reads import ancestry, exists, first_value, labels_of, objects, select, subjects
from kg.site.paths import Paths
from kg.site.render import local_name
from kg.site.trees import TreeNode, taxonomy_tree
from kg.store import Snapshot
from kg.vocab import DC, DCTERMS, KG, KG_NS, Iris


@dataclass(frozen=True)
class Column:
    iri: str
    label: str
    title: str  # the whole name, where the label is short


@dataclass(frozen=True)
class Dimension:
    """A coverage map: the taxonomy of its rows, what its columns are, what a cell counts."""

    title: str  # "mitigation category × lifecycle stage"
    tab: str
    caption: str  # what the table counts
    explains: str  # what a cell counts, and where it leads
    rows: str  # the scheme name of the rows
    columns: str | None  # the scheme whose top concepts are the columns; None: documents
    counts: str = "mitigations"  # or "actions"
    row_predicate: str = "category"  # classifies a mitigation under a row's concept
    column_predicate: str = ""  # … under a column's value
    filters: tuple[str, str] = ("category", "")  # the search filters a cell links to
    nexus: bool = False  # a map of the AI Atlas Nexus data (its tab shows when it is loaded)
    all_columns: bool = True  # columns without any count are shown (as gaps) too


KG_CELLS = (
    "Each cell counts the mitigations classified under a category (or a category below it) and "
    "the {} of its column; it links to their list. Empty cells are gaps: nothing in the graph "
    "covers that combination."
)
DIMENSIONS = {
    "stage": Dimension(
        "mitigation category × lifecycle stage",
        "× lifecycle stage",
        "Mitigations per category and lifecycle stage",
        KG_CELLS.format("lifecycle stage"),
        "mitigation",
        "stage",
        column_predicate="lifecycleStage",
        filters=("category", "stage"),
    ),
    "actor": Dimension(
        "mitigation category × actor",
        "× actor",
        "Mitigations per category and actor",
        KG_CELLS.format("actor"),
        "mitigation",
        "actor",
        column_predicate="actor",
        filters=("category", "actor"),
    ),
    "function": Dimension(
        "mitigation category × NIST AI RMF function",
        "× NIST AI RMF function",
        "Mitigations per category and NIST AI RMF function",
        KG_CELLS.format("NIST AI RMF function"),
        "mitigation",
        "rmf-function",
        column_predicate="rmfFunction",
        filters=("category", "function"),
    ),
    "document": Dimension(
        "v1 mitigation category × source document",
        "v1 category × document",
        "AI Atlas Nexus records per v1 category and source document",
        "Each cell counts the AI Atlas Nexus records of a document (its column) classified under "
        "a category of the v1 draft taxonomy or a category below it; it links to their list. "
        "Empty cells are categories a document proposes nothing in.",
        "mitigation-v1",
        None,
        row_predicate="categoryV1",
        column_predicate="sourceDocument",
        filters=("v1", "document"),
        nexus=True,
    ),
    "risk": Dimension(
        "generative AI risk × NIST AI RMF function",
        "generative AI risk × RMF function",
        "NIST AI RMF actions per generative AI risk and function",
        "Each cell counts the NIST AI RMF actions of NIST AI 600-1 that relate to a risk of "
        "generative AI, under a function of the RMF; it links to them on the risk's page, with "
        "the records quoting them. Empty cells are functions with no action for that risk.",
        "genai-risk",
        "rmf-function",
        counts="actions",
        nexus=True,
        all_columns=False,  # the functions, not the classifier's catch-all value
    ),
}

#: Mitigations per own concept (of the rows) and value (of the columns): the two properties are
#: the dimension's, constants of this module.
MITIGATIONS = """
SELECT ?c ?v (COUNT(DISTINCT ?m) AS ?n) WHERE {{ ?m <{}> ?c ; <{}> ?v }} GROUP BY ?c ?v"""
ACTIONS = """
SELECT ?c ?v (COUNT(*) AS ?n) WHERE { ?a kg:relatedRisk ?c ; skos:broader ?v } GROUP BY ?c ?v"""


@dataclass(frozen=True)
class CoverageTask(Task):
    snapshot: Snapshot
    base_iri: str
    dimension: str  # a key of DIMENSIONS

    def run(self) -> dict:
        store = self.snapshot.open()
        dimension = DIMENSIONS[self.dimension]
        rows: list[TreeNode] = taxonomy_tree(store, self.base_iri, dimension.rows)
        if dimension.counts == "actions":
            counts = _actions_by_function(store)
        else:
            sparql = MITIGATIONS.format(
                KG_NS + dimension.row_predicate, KG_NS + dimension.column_predicate
            )
            rows_found = select(store, sparql)
            counts = [(r["c"].value, r["v"].value, int(r["n"].value)) for r in rows_found]
        parent = {row.iri: row.broader for row in rows}
        totals: dict[tuple[str, str], int] = defaultdict(int)
        # A mitigation has exactly one category (the shapes require it), so the counts of a
        # concept's descendants add up to its own.
        for concept, value, count in counts:
            seen: set[str] = set()
            while concept is not None and concept not in seen:
                seen.add(concept)
                totals[concept, value] += count
                concept = parent.get(concept)
        if dimension.columns is None:
            columns = _documents(store, {value for _, value in totals})
        else:
            tops = taxonomy_tree(store, self.base_iri, dimension.columns)
            columns = [Column(n.iri, n.label, n.label) for n in tops if n.depth == 0]
            if not dimension.all_columns:
                counted = {value for (_, value), count in totals.items() if count}
                columns = [c for c in columns if c.iri in counted]
        shown = {c.iri for c in columns}
        paths = Paths(self.base_iri)
        by_iri = {row.iri: row for row in rows}
        cells = {
            key: (count, _link(dimension, by_iri[key[0]], key[1], paths))
            for key, count in totals.items()
            if key[1] in shown and key[0] in by_iri and count
        }
        iris = Iris(self.base_iri)
        present = [
            name
            for name, d in DIMENSIONS.items()
            if not d.nexus or exists(store, iris.scheme(d.rows))
        ]
        return {"rows": rows, "columns": columns, "cells": cells, "present": present}


def _actions_by_function(store: Store) -> list[tuple[str, str, int]]:
    """(risk, function, actions): the engine counts actions per subcategory, the functions
    above the subcategories are read here."""
    function_of: dict[str, str] = {}
    found = []
    for row in select(store, ACTIONS):
        subcategory = row["v"].value
        if subcategory not in function_of:
            function_of[subcategory] = ancestry(store, NamedNode(subcategory))[0].value
        found.append((row["c"].value, function_of[subcategory], int(row["n"].value)))
    return found


def _link(dimension: Dimension, row: TreeNode, value: str, paths: Paths) -> str:
    if dimension.counts == "actions":  # the row's page lists its actions by function
        return f"{paths.href(row.iri)}#actions-{local_name(value)}"
    row_filter, column_filter = dimension.filters
    chosen = value if dimension.columns is None else local_name(value)
    return "/search?" + urlencode({row_filter: row.notation or row.iri, column_filter: chosen})


def _documents(store: Store, iris: set[str]) -> list[Column]:
    """The documents counted, most first as their columns, each under a short name: its first
    author's family name (or its one author) and its year, else its identifier."""
    columns = []
    labels = labels_of(store, [NamedNode(i) for i in iris])
    for iri in iris:
        title = labels.get(iri, iri)
        columns.append(Column(iri, _short_name(store, NamedNode(iri)) or title, title))
    sizes = {i: len(subjects(store, KG.sourceDocument, NamedNode(i))) for i in iris}
    columns.sort(key=lambda c: (-sizes[c.iri], c.label.casefold()))
    return columns


def _short_name(store: Store, document: NamedNode) -> str | None:
    year = first_value(store, document, DCTERMS.issued)
    creators = objects(store, document, DC.creator)
    if creators:
        names = creators[0].value.split(",")
        first = names[0].strip()
        name = f"{first.split()[-1]} et al." if len(names) > 1 and first else first
        return f"{name} {year}" if year else name
    identifier = first_value(store, document, DCTERMS.identifier)  # "NIST.AI.600-1"
    return identifier.replace(".", " ") if identifier else None
