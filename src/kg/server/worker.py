"""What runs in the query processes: read a generation of the store, answer, serialize.

Each task names the generation directory it must read. Generations are never written once live
(see `kg.store`), so opening one read-only here is safe while a writer prepares the next. A process
keeps its handle until a task names a newer generation.

Results are serialized by pyoxigraph. The row cap is applied on the line-based formats (TSV
results, N-Triples), where a row is a line: the result is written to them with a writer that stops
at the cap, and converted to the negotiated format only when that is another one.
"""

import ctypes
import os
import signal
import sys
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import (
    DefaultGraph,
    NamedNode,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    RdfFormat,
    Store,
    parse,
    parse_query_results,
    serialize,
)

from kg.errors import QueryError, StoreError
from kg.server.negotiation import RDF, Kind, choose
from kg.server.policy import check_services, prepare_update
from kg.store import OxigraphStore, export
from kg.vocab import PREFIXES


@dataclass(frozen=True)
class QueryTask:
    generation: str | None  # a generation directory; None for a store nothing was committed to
    query: str
    default_graphs: tuple[str, ...]
    named_graphs: tuple[str, ...]
    accept: str | None
    format_name: str | None
    max_rows: int
    base_iri: str
    allowed_services: tuple[str, ...]


@dataclass(frozen=True)
class Answer:
    body: bytes
    media_type: str
    truncated: bool = False


@dataclass(frozen=True)
class Scope:
    """What an export holds: a named graph (its IRI), the default graph, or the whole dataset."""

    graph: str | None = None
    default: bool = False

    @property
    def is_dataset(self) -> bool:
        return self.graph is None and not self.default


@dataclass(frozen=True)
class ExportTask:
    generation: str | None
    scope: Scope
    format_name: str  # a key of negotiation.RDF (pyoxigraph formats do not pickle)
    target: str  # the file to write (atomically)


@dataclass(frozen=True)
class UpdateTask:
    store: str
    update: str
    using: tuple[str, ...]
    using_named: tuple[str, ...]
    base_iri: str
    allowed_services: tuple[str, ...]


class GraphNotFound(QueryError):
    """The graph store was asked for a graph the dataset does not have."""


#: prctl(2) option: the signal this process gets when its parent dies.
PR_SET_PDEATHSIG = 1

_handle: tuple[tuple, Store] | None = None


def _store(generation: str | None) -> Store:
    global _handle
    try:
        # The inode tells a generation from one of the same name in a store made again.
        key = (generation, os.stat(generation).st_ino) if generation else (None, 0)
        if _handle is None or _handle[0] != key:
            _handle = None  # close the previous generation before opening the next
            _handle = (key, Store.read_only(generation) if generation else Store())
    except OSError as error:
        raise StoreError(f"the store cannot be read now ({error}); try again") from None
    return _handle[1]


def start_worker() -> None:
    """Runs first in each worker process. SIGTERM gets its default action (a Python handler would
    wait for the running Rust query to return), and on Linux the worker is killed when the server
    dies, even by SIGKILL, rather than left running its query."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def warm_up(_: object = None) -> None:
    """Nothing to do: unpickling this function in a new process imported what tasks need."""


def run_query(task: QueryTask) -> Answer:
    check_services(task.query, task.allowed_services, task.base_iri, PREFIXES)
    options = {}
    if task.default_graphs or task.named_graphs:
        # The protocol's dataset replaces the query's FROM / FROM NAMED.
        options["default_graph"] = [_graph_name(iri) for iri in task.default_graphs]
        options["named_graphs"] = [_graph_name(iri) for iri in task.named_graphs]
    try:
        result = _store(task.generation).query(
            task.query, base_iri=task.base_iri, prefixes=PREFIXES, **options
        )
        return _serialize(result, task)
    except SyntaxError as error:
        raise QueryError(f"invalid SPARQL query: {error}") from None
    except RuntimeError as error:  # evaluation errors surface while results stream
        raise QueryError(f"query failed: {error}") from None
    except OSError as error:  # reading the store, or an allowed SERVICE endpoint, failed
        raise StoreError(f"query could not be answered now: {error}") from None


def _graph_name(iri: str) -> NamedNode:
    try:
        return NamedNode(iri)
    except ValueError:
        raise QueryError(f"invalid graph IRI in the request: {iri!r}") from None


def _serialize(result, task: QueryTask) -> Answer:
    if isinstance(result, QueryBoolean):
        choice = choose(Kind.BOOLEAN, task.accept, task.format_name)
        return Answer(result.serialize(format=choice.format), choice.media_type)
    if isinstance(result, QuerySolutions):
        choice = choose(Kind.SOLUTIONS, task.accept, task.format_name)
        capped = _LineCap(task.max_rows + 1)  # TSV starts with a header line
        _write_capped(lambda: result.serialize(capped, QueryResultsFormat.TSV))
        body = capped.value()
        if choice.format != QueryResultsFormat.TSV:
            body = parse_query_results(body, QueryResultsFormat.TSV).serialize(format=choice.format)
        return Answer(body, choice.media_type, capped.full)
    choice = choose(Kind.GRAPH, task.accept, task.format_name)
    capped = _LineCap(task.max_rows)
    _write_capped(lambda: result.serialize(capped, RdfFormat.N_TRIPLES))
    body = capped.value()
    if choice.format != RdfFormat.N_TRIPLES:
        triples = parse(body, RdfFormat.N_TRIPLES)
        body = serialize(triples, format=choice.format, prefixes=PREFIXES)
    return Answer(body, choice.media_type, capped.full)


def _write_capped(write) -> None:
    with suppress(_CapReached):
        write()


class _CapReached(Exception):
    """Raised into pyoxigraph's serializer to stop evaluating rows nobody will receive."""


class _LineCap:
    """A binary sink that keeps the first `limit` lines, then stops the serializer writing it."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.lines = 0
        self.full = False
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        if self.full:
            raise _CapReached
        count = data.count(b"\n")
        if self.lines + count <= self.limit:
            self.lines += count
            self._parts.append(bytes(data))
            return len(data)
        end = -1
        for _ in range(self.limit - self.lines):
            end = data.index(b"\n", end + 1)
        self._parts.append(bytes(data[: end + 1]))
        self.lines, self.full = self.limit, True
        raise _CapReached

    def flush(self) -> None:
        pass

    def value(self) -> bytes:
        return b"".join(self._parts)


def run_export(task: ExportTask) -> None:
    store = _store(task.generation)
    graph = None
    if task.scope.default:
        graph = DefaultGraph()
    elif task.scope.graph is not None:
        graph = _graph_name(task.scope.graph)
        if not store.contains_named_graph(graph):
            raise GraphNotFound(f"no graph <{task.scope.graph}> in the dataset")
    target = Path(task.target)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}")
    try:
        with partial.open("wb") as output:
            export(store, output, RDF[task.format_name], graph)
        os.replace(partial, target)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise StoreError(f"export could not be written now: {error}") from None


def run_update(task: UpdateTask) -> None:
    update = prepare_update(
        task.update, task.using, task.using_named, task.allowed_services, task.base_iri, PREFIXES
    )
    OxigraphStore(Path(task.store)).update(update, base_iri=task.base_iri)


def dataset_statistics(generation: str | None) -> dict:
    """Counts for the VoID description: triples, subjects, graphs, and instances per class."""
    try:
        return _statistics(_store(generation))
    except OSError as error:
        raise StoreError(f"statistics could not be computed now: {error}") from None


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
    return {
        "triples": int(row["triples"].value),
        "subjects": int(row["subjects"].value),
        "properties": int(row["properties"].value),
        "graphs": sum(1 for _ in store.named_graphs()),
        "classes": {c["class"].value: int(c["n"].value) for c in classes},
    }
