"""The SPARQL protocol's work, as tasks for the worker processes: queries, graph exports,
statistics for the service descriptions, and updates."""

import os
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from pyoxigraph import DefaultGraph, NamedNode, Store

from kg.errors import QueryError, StoreError
from kg.server.answers import Answer, AnswerTooLarge, Caps, serialize_result
from kg.server.negotiation import RDF
from kg.server.policy import check_services, prepare_update
from kg.server.shapes_seen import shape_of
from kg.server.task import Lane, Task
from kg.settings import Settings
from kg.store import Snapshot, export
from kg.stores import open_store
from kg.vocab import PREFIXES


class GraphNotFound(QueryError):
    """The graph store was asked for a graph the dataset does not have."""


@dataclass(frozen=True)
class QueryTask(Task):
    snapshot: Snapshot
    query: str
    default_graphs: tuple[str, ...]
    named_graphs: tuple[str, ...]
    accept: str | None
    format_name: str | None
    caps: Caps
    base_iri: str
    allowed_services: tuple[str, ...]

    @property
    def shape(self) -> str | None:
        return shape_of(self.query)

    def run(self) -> Answer:
        check_services(self.query, self.allowed_services, self.base_iri, PREFIXES)
        options = {}
        if self.default_graphs or self.named_graphs:
            # The protocol's dataset replaces the query's FROM / FROM NAMED.
            options["default_graph"] = [graph_name(iri) for iri in self.default_graphs]
            options["named_graphs"] = [graph_name(iri) for iri in self.named_graphs]
        try:
            result = self.snapshot.open().query(
                self.query, base_iri=self.base_iri, prefixes=PREFIXES, **options
            )
            return serialize_result(result, self.accept, self.format_name, self.caps)
        except MemoryError as error:  # past the worker's address-space cap (KG_WORKER_MEMORY)
            message = f"the query needs more memory than a worker has: {error}"
            raise AnswerTooLarge(message) from None
        except SyntaxError as error:
            raise QueryError(f"invalid SPARQL query: {error}") from None
        except RuntimeError as error:  # evaluation errors surface while results stream
            raise QueryError(f"query failed: {error}") from None
        except OSError as error:  # reading the store, or an allowed SERVICE endpoint, failed
            raise StoreError(f"query could not be answered now: {error}") from None


@dataclass(frozen=True)
class Scope:
    """What an export holds: a named graph (its IRI), the default graph, or the whole dataset."""

    graph: str | None = None
    default: bool = False

    @property
    def is_dataset(self) -> bool:
        return self.graph is None and not self.default


@dataclass(frozen=True)
class ExportTask(Task):
    lane: ClassVar[Lane] = Lane.WHOLE_GRAPH
    snapshot: Snapshot
    scope: Scope
    format_name: str  # a key of negotiation.RDF (pyoxigraph formats do not pickle)
    target: str  # the file to write (atomically)

    def run(self) -> None:
        store = self.snapshot.open()
        graph = None
        if self.scope.default:
            graph = DefaultGraph()
        elif self.scope.graph is not None:
            graph = graph_name(self.scope.graph)
            if not store.contains_named_graph(graph):
                raise GraphNotFound(f"no graph <{self.scope.graph}> in the dataset")
        target = Path(self.target)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{os.getpid()}")
        try:
            with partial.open("wb") as output:
                export(store, output, RDF[self.format_name], graph)
            os.replace(partial, target)
        except OSError as error:
            partial.unlink(missing_ok=True)
            raise StoreError(f"export could not be written now: {error}") from None


@dataclass(frozen=True)
class StatisticsTask(Task):
    """Counts for the service descriptions: triples, subjects, graphs, instances per class."""

    lane: ClassVar[Lane] = Lane.WHOLE_GRAPH
    snapshot: Snapshot

    def run(self) -> dict:
        try:
            return _statistics(self.snapshot.open())
        except OSError as error:
            raise StoreError(f"statistics could not be computed now: {error}") from None


@dataclass(frozen=True)
class UpdateTask(Task):
    lane: ClassVar[Lane] = Lane.WRITE
    settings: Settings  # the store's: an update writes its next generation
    update: str
    using: tuple[str, ...]
    using_named: tuple[str, ...]
    base_iri: str
    allowed_services: tuple[str, ...]

    def run(self) -> None:
        update = prepare_update(
            self.update,
            self.using,
            self.using_named,
            self.allowed_services,
            self.base_iri,
            PREFIXES,
        )
        open_store(self.settings).update(update, base_iri=self.base_iri)


def graph_name(iri: str) -> NamedNode:
    try:
        return NamedNode(iri)
    except ValueError:
        raise QueryError(f"invalid graph IRI in the request: {iri!r}") from None


def _statistics(store: Store) -> dict:
    row = next(
        store.query(
            "SELECT (COUNT(*) AS ?triples) (COUNT(DISTINCT ?s) AS ?subjects) "
            "(COUNT(DISTINCT ?p) AS ?properties) WHERE { ?s ?p ?o }"
        )
    )
    classes = store.query(
        "SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?class FILTER(isIRI(?class)) } "
        "GROUP BY ?class ORDER BY ?class"
    )
    sources = store.query(SOURCES, prefixes=PREFIXES)
    licences, derived_from, unlicensed, modified = set(), set(), 0, None
    for source in sources:
        if source["licence"] is not None:
            licences.add(source["licence"].value)
        else:
            unlicensed += 1
        if source["from"] is not None:
            derived_from.add(source["from"].value)
        loaded = source["loaded"].value if source["loaded"] is not None else None
        modified = max(filter(None, (modified, loaded)), default=None)
    return {
        "triples": int(row["triples"].value),
        "subjects": int(row["subjects"].value),
        "properties": int(row["properties"].value),
        "graphs": sum(1 for _ in store.named_graphs()),
        "classes": {c["class"].value: int(c["n"].value) for c in classes},
        # The loaded data files' graphs (pages, RDF files, Nexus files): what they say of
        # themselves, for the dataset's licence, provenance and date.
        "licences": sorted(licences),
        "unlicensed_sources": unlicensed,
        "derived_from": sorted(derived_from),
        "modified": modified,
    }


#: The data files' graphs and what each states of itself (not the vocabulary's, not derived).
SOURCES = """
SELECT ?g (SAMPLE(?l) AS ?licence) (SAMPLE(?f) AS ?from) (MAX(?t) AS ?loaded) WHERE {
  GRAPH ?g { ?g kg:sourceFile ?file ; prov:generatedAtTime ?t
    OPTIONAL { ?g dcterms:license ?l } OPTIONAL { ?g prov:wasDerivedFrom ?f } }
  FILTER(CONTAINS(STR(?g), "/graph/file/") || CONTAINS(STR(?g), "/graph/nexus/"))
} GROUP BY ?g"""
