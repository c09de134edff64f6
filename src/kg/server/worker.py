"""What runs in the query processes: read a generation of the store, answer, serialize.

Each task names the generation directory it must read. Generations are never written once live
(see `kg.store`), so opening one read-only here is safe while a writer prepares the next. A process
keeps its handle until a task names a newer generation.

Each worker starts confined (`sandbox`): no network while the SERVICE allow-list is empty, and an
address-space cap. Answers are serialized within their caps by `answers`.
"""

import ctypes
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import DefaultGraph, NamedNode, Store

from kg.errors import QueryError, StoreError
from kg.server import sandbox
from kg.server.answers import Answer, AnswerTooLarge, Caps, serialize_result
from kg.server.negotiation import RDF
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
    caps: Caps
    base_iri: str
    allowed_services: tuple[str, ...]


@dataclass(frozen=True)
class Confinement:
    """What a worker may do: open network connections or not, and how much memory it may map."""

    network: bool
    memory_bytes: int


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


def start_worker(confinement: Confinement) -> None:
    """Runs first in each worker process. SIGTERM gets its default action (a Python handler would
    wait for the running Rust query to return), and on Linux the worker is killed when the server
    dies, even by SIGKILL, rather than left running its query. Then the worker confines itself."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if not confinement.network:
        try:
            sandbox.deny_network()
        except sandbox.SandboxUnavailable as error:
            print(f"kg serve: worker {os.getpid()} keeps network access: {error}", file=sys.stderr)
    sandbox.limit_memory(confinement.memory_bytes)


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
        return serialize_result(result, task.accept, task.format_name, task.caps)
    except MemoryError as error:  # past the worker's address-space cap (KG_WORKER_MEMORY)
        raise AnswerTooLarge(f"the query needs more memory than a worker has: {error}") from None
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
