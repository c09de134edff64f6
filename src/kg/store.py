"""The persistent store behind a narrow interface (commit graphs, query, update, export).

`OxigraphStore` keeps each committed state of the dataset in its own generation directory and
points `current` at the live one. A commit copies the live generation (a RocksDB checkpoint: hard
links, not a data copy), writes the change into the copy with the bulk loader, and then swaps the
`current` link with one atomic rename. A failure or interruption at any point before the rename
leaves the previous generation untouched and live; the next commit removes the abandoned copy.
Readers never open a directory that a writer is changing.

Readers name what they read by a `Snapshot` (the live generation and its data version): this
module is the only one that knows how generations are laid out.
"""

import fcntl
import os
import shutil
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from functools import partial
from itertools import chain
from pathlib import Path
from typing import IO, Protocol

from pyoxigraph import (
    DefaultGraph,
    NamedNode,
    Quad,
    QueryBoolean,
    QuerySolutions,
    QueryTriples,
    RdfFormat,
    Store,
    serialize,
)

from kg.errors import QueryError, StoreError
from kg.remote.endpoints import Endpoints
from kg.remote.reader import RemoteReader
from kg.vocab import PREFIXES

CURRENT = "current"
WRITE_LOCK = "write.lock"
#: Export formats that keep named graphs; the others get the merged graph.
DATASET_FORMATS = (RdfFormat.N_QUADS, RdfFormat.TRIG)
GENERATION_PREFIX = "gen-"
#: Seconds a replaced generation stays readable (longer than any query may run).
RETENTION = 600.0


#: Makes the default graph the union of the named graphs.
UNION = "INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }"

Select = Callable[[str], list[tuple]]


@dataclass
class Changeset:
    """Named graphs to set to new content; every other graph stays as it is.

    `derivations` run once the new content is in, within the same commit: each gets a SELECT
    runner on the dataset being written and returns derived graphs to set (triples, no graph).
    `checks` run last, on the dataset as it would go live; one that raises abandons the commit.
    """

    graphs: dict[NamedNode, list[Quad]] = field(default_factory=dict)
    derivations: list[Callable[[Select], dict[NamedNode, list[Quad]]]] = field(default_factory=list)
    checks: list[Callable[[Store], None]] = field(default_factory=list)
    #: The graphs the commit set, derived ones included (filled while it runs).
    written: set[NamedNode] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.graphs)

    @property
    def quad_count(self) -> int:
        return sum(len(quads) for quads in self.graphs.values())


QueryResult = QuerySolutions | QueryBoolean | QueryTriples


@dataclass(frozen=True)
class Snapshot:
    """One committed state of the dataset: its data version (for ETags and caches) and what a
    reader opens to read it, in this process or another one (a snapshot pickles)."""

    version: str
    directory: str | None  # None before anything was committed: an empty dataset
    remote: Endpoints | None = None  # a remote engine's, whose reads name no directory

    def open(self) -> Store:
        """A read-only handle on this state; the process keeps one open, reopened when a
        snapshot of another version is asked for. On a remote engine, a reader that asks it."""
        global _handle
        if self.remote is not None:
            return RemoteReader(self.remote)  # type: ignore[return-value]
        if _handle is not None and _handle[0] == self:
            return _handle[1]
        _handle = None  # close the previous generation before opening the next
        try:
            store = Store.read_only(self.directory) if self.directory else Store()
        except OSError as error:
            raise StoreError(f"the store cannot be read now ({error}); try again") from None
        _handle = (self, store)
        return store


EMPTY = Snapshot("empty", None)
_handle: tuple[Snapshot, Store] | None = None


class GraphStore(Protocol):
    """What loaders, the CLI and the API may ask of a store (a remote one can stand in)."""

    def commit(self, changes: Changeset) -> None:
        """Replaces the changed graphs and recomputes the derived ones, atomically."""

    def snapshot(self) -> Snapshot:
        """The live state: its data version, and what a reader in any process opens."""

    def reader(self) -> Store:
        """A reader of the live state."""

    def query(self, sparql: str, **options: object) -> QueryResult: ...

    def update(self, sparql: str) -> None: ...

    def export(self, output: IO[bytes], rdf_format: RdfFormat) -> None: ...

    def quad_count(self) -> int: ...

    def named_graphs(self) -> list[NamedNode]: ...

    def bulk_load(self, path: Path, rdf_format: RdfFormat) -> None: ...


class OxigraphStore:
    """A pyoxigraph store on disk, committed by generations (see the module docstring)."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        self._current = self.directory / CURRENT

    # --- reading ----------------------------------------------------------------------------

    @property
    def live_directory(self) -> Path | None:
        return self._current.resolve() if self._current.is_symlink() else None

    def snapshot(self) -> Snapshot:
        """The live state; a server asks on every request, so this makes two system calls
        (Path.resolve would make a dozen)."""
        try:
            name = os.readlink(self._current)
            inode = os.stat(self._current).st_ino
        except OSError:  # nothing committed yet
            return EMPTY
        # The inode tells a generation from one of the same name in a store made again.
        return Snapshot(f"{name}.{inode:x}", str(self.directory / name))

    def reader(self) -> Store:
        """A read-only handle on the live generation, reopened when a commit switched it."""
        return self.snapshot().open()

    def query(self, sparql: str, **options: object) -> QueryResult:
        """Runs a query; the default graph is the union of all loaded graphs (each fact once)."""
        try:
            return self.reader().query(sparql, prefixes=PREFIXES, **options)
        except SyntaxError as error:
            raise QueryError(f"invalid SPARQL: {error}") from None
        except OSError as error:
            raise QueryError(f"query failed: {error}") from None

    def export(self, output: IO[bytes], rdf_format: RdfFormat) -> None:
        export(self.reader(), output, rdf_format)

    def quad_count(self) -> int:
        return len(self.reader())

    def named_graphs(self) -> list[NamedNode]:
        return [g for g in self.reader().named_graphs() if isinstance(g, NamedNode)]

    # --- writing ----------------------------------------------------------------------------

    def commit(self, changes: Changeset) -> None:
        if changes:
            self._write_generation(partial(_apply_changes, changes=changes))

    def bulk_load(self, path: Path, rdf_format: RdfFormat) -> None:
        """Commits a dataset file as it is, with the bulk loader (for benchmarks of large data:
        the file must hold the default graph as the union of its named graphs, as
        `kg export --format nquads` plus its merged graph would)."""
        self._write_generation(lambda store: store.bulk_load(path=str(path), format=rdf_format))

    def replace_all(self, quads: Iterable[Quad]) -> None:
        """Commits a dataset of exactly these named graphs' quads (and their union)."""

        def write(store: Store) -> None:
            store.clear()
            store.bulk_extend(q for q in quads if q.graph_name != DefaultGraph())
            store.update(UNION)

        self._write_generation(write)

    def update(self, sparql: str, base_iri: str | None = None) -> None:
        """Applies a SPARQL update as one commit, then derives the default graph again from the
        named graphs: it is their union, so what an update writes there directly is replaced."""
        self._write_generation(partial(_apply_update, sparql=sparql, base_iri=base_iri))

    def _write_generation(self, write: Callable[[Store], None]) -> None:
        """Runs `write` on a copy of the live generation, then makes the copy live.

        Only this method and `write` ever hold the copy's handle, so dropping it here closes the
        database before it goes live, or before it is removed when `write` fails (the failure's
        traceback would otherwise keep the handle, and its lock, alive).
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        with self._write_lock():
            live = self.live_directory
            live_number = _generation_number(live) if live else 0
            self._remove_unused(live_number)
            target = self.directory / f"{GENERATION_PREFIX}{live_number + 1:06d}"
            try:
                if live is not None:
                    Store.read_only(str(live)).backup(str(target))
                store = Store(str(target))
            except OSError as error:
                message = f"{self.directory}: cannot prepare a new generation: {error}"
                raise StoreError(message) from None
            try:
                write(store)
                store.flush()
            except BaseException as error:
                traceback.clear_frames(error.__traceback__)
                del store
                shutil.rmtree(target, ignore_errors=True)
                raise
            del store
            self._switch(target)
            self._remove_unused(live_number + 1)

    def _write_lock(self) -> AbstractContextManager[None]:
        return exclusive_lock(self.directory, WRITE_LOCK)

    def _switch(self, target: Path) -> None:
        link = self.directory / CURRENT
        staging = self.directory / f".{CURRENT}.{os.getpid()}"
        staging.unlink(missing_ok=True)
        staging.symlink_to(target.name)
        os.replace(staging, link)  # atomic on POSIX: readers see the old or the new, never neither
        _fsync_directory(self.directory)

    def _remove_unused(self, live_number: int) -> None:
        """Drops generations a crash abandoned, and older ones once they were replaced more than
        RETENTION seconds ago; the one before the live one always stays. A reader (a query that
        named its generation when it started) thus never loses its files while it runs.
        Generations share unchanged files (hard links), so keeping some costs little disk."""
        expired = time.time() - RETENTION
        for path in self.directory.glob(f"{GENERATION_PREFIX}*"):
            number = _generation_number(path)
            if number > live_number or (number < live_number - 1 and _replaced_at(path) < expired):
                shutil.rmtree(path, ignore_errors=True)
        for path in self.directory.glob(f".{CURRENT}.*"):
            path.unlink(missing_ok=True)


@contextmanager
def exclusive_lock(directory: Path, name: str) -> Iterator[None]:
    """One writer at a time on `directory` (its lock file `name`); a second one is refused
    rather than queued."""
    with (directory / name).open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreError(f"{directory}: another kg process is writing the store") from None
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def export(
    store: Store,
    output: IO[bytes],
    rdf_format: RdfFormat,
    graph: NamedNode | DefaultGraph | None = None,
) -> None:
    """Writes one graph, or (graph None) the whole dataset: its named graphs in a dataset format
    (the default graph is derived from them), else the merged default graph."""
    if graph is not None:
        store.dump(output, rdf_format, from_graph=graph, prefixes=PREFIXES)
    elif rdf_format in DATASET_FORMATS:
        quads = store.quads_for_pattern(None, None, None, None)
        serialize((q for q in quads if q.graph_name != DefaultGraph()), output, rdf_format)
    else:
        store.dump(output, rdf_format, from_graph=DefaultGraph(), prefixes=PREFIXES)


def _apply_changes(store: Store, changes: Changeset) -> None:
    _replace_graphs(store, changes.graphs)
    changes.written.update(changes.graphs)
    for derive in changes.derivations:
        derived = derive(lambda sparql: _select(store, sparql))
        _replace_graphs(
            store,
            {
                graph: [Quad(q.subject, q.predicate, q.object, graph) for q in quads]
                for graph, quads in derived.items()
            },
        )
        changes.written.update(derived)
    for check in changes.checks:
        check(store)


def _apply_update(store: Store, sparql: str, base_iri: str | None) -> None:
    try:
        store.update(sparql, base_iri=base_iri, prefixes=PREFIXES)
    except SyntaxError as error:
        raise QueryError(f"invalid SPARQL update: {error}") from None
    except (OSError, RuntimeError) as error:  # e.g. DROP of a graph that does not exist
        raise QueryError(f"SPARQL update failed: {error}") from None
    store.remove_graph(DefaultGraph())
    store.update(UNION)


def _replaced_at(generation: Path) -> float:
    """When the generation after this one was written (its directory's last change)."""
    successor = generation.with_name(f"{GENERATION_PREFIX}{_generation_number(generation) + 1:06d}")
    try:
        return successor.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def _generation_number(path: Path) -> int:
    return int(path.name.removeprefix(GENERATION_PREFIX))


def _replace_graphs(store: Store, graphs: dict[NamedNode, list[Quad]]) -> None:
    """Sets each graph to its new quads and keeps the default graph their distinct union."""
    old = set()
    for graph in graphs:
        old.update(_triple(q) for q in store.quads_for_pattern(None, None, None, graph))
        store.remove_graph(graph)
    quads = [quad for graph_quads in graphs.values() for quad in graph_quads]
    # The store holds each quad once, so facts repeated across graphs need no deduplication here.
    store.bulk_extend(chain(quads, (Quad(q.subject, q.predicate, q.object) for q in quads)))
    if not old:
        return
    # A fact leaves the default graph only when no named graph states it any more.
    for s, p, o in old - {_triple(q) for q in quads}:
        if not any(q.graph_name != DefaultGraph() for q in store.quads_for_pattern(s, p, o, None)):
            store.remove(Quad(s, p, o))


def _select(store: Store, sparql: str) -> list[tuple]:
    """Rows of a SELECT on the store being written, as tuples in the order of its variables."""
    solutions = store.query(sparql, prefixes=PREFIXES)
    return [tuple(row) for row in solutions]


def _triple(quad: Quad) -> tuple:
    return quad.subject, quad.predicate, quad.object


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
