"""A remote engine as kg's store: reads from it, commits prepared on a working copy and sent as
one update request, or staged and moved into place (see the package docstring)."""

import itertools
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path
from typing import IO
from urllib.parse import urlencode

from pyoxigraph import DefaultGraph, NamedNode, Quad, RdfFormat, Store, serialize

from kg.errors import QueryError, StoreError
from kg.remote.client import post
from kg.remote.endpoints import Endpoints
from kg.remote.reader import RemoteReader
from kg.remote.terms import Skolem
from kg.remote.version import (
    BATCH,
    STAGING,
    new_version,
    read_version,
    version_graph,
    version_query,
    version_update,
)
from kg.settings import Settings
from kg.store import Changeset, OxigraphStore, QueryResult, Snapshot, exclusive_lock, export
from kg.vocab import DCTERMS, OWL, PREFIXES

WORKING_COPY = "copy"
#: What kg's readers see while a first load is on its way: an empty store.
LOADING = Snapshot("remote-loading", None)
#: The data version the working copy holds; empty when it may differ from the engine's.
SYNCED = "copy.version"
PUBLISH_LOCK = "publish.lock"
#: Bytes of one request, at most (and at most half what the engine takes, Engine.max_request_bytes:
#: a request is cut after the operation or line that passes the limit).
REQUEST_BYTES = 64 * 1024 * 1024
#: Bytes of an update request kept in memory before it is spooled to a temporary file.
SPOOL_BYTES = 8 * 1024 * 1024
UPDATE = "application/sparql-update"
Graph = NamedNode | DefaultGraph
#: Quads serialized at a time into an upload.
UPLOAD_BATCH = 50_000


class RemoteStore:
    def __init__(self, settings: Settings) -> None:
        self.endpoints = Endpoints.from_settings(settings)
        self.workdir = settings.store_dir
        self.working = OxigraphStore(self.workdir / WORKING_COPY)
        self.skolem = Skolem(settings.base_iri)
        #: Where kg's default graph is written: the engine's, or a graph of its own where the
        #: engine's default graph is the union of all graphs.
        union = self.endpoints.union_graph
        self.default_graph = NamedNode(union) if union else None

    # --- reading ----------------------------------------------------------------------------

    def reader(self) -> Store:
        """kg's data as its readers see it: none while a first load is on its way."""
        return self.snapshot().open()

    def version(self) -> str | None:
        return read_version(self._read(version_query(self.endpoints.base_iri)))

    def snapshot(self) -> Snapshot:
        version = self.version()
        if version is None and self._read(InPlaceLoad.in_progress_query(self.endpoints.base_iri)):
            return LOADING
        return Snapshot(f"remote-{version or 'empty'}", None, self.endpoints)

    def _engine(self) -> RemoteReader:
        return RemoteReader(self.endpoints)

    def _read(self, query: str) -> list:
        """The rows of one of kg's own queries (versions, registers) to the engine."""
        try:
            return list(self._engine()._rows(query))
        except SyntaxError as error:
            raise StoreError(f"the SPARQL engine cannot be read: {error}") from None
        except OSError as error:
            raise StoreError(str(error)) from None

    def query(self, sparql: str, **options: object) -> QueryResult:
        try:
            return self.reader().query(sparql, prefixes=PREFIXES, **options)  # type: ignore[call-arg]
        except SyntaxError as error:
            raise QueryError(f"invalid SPARQL: {error}") from None
        except (OSError, StoreError) as error:  # StoreError: the version could not be read
            raise QueryError(f"query failed: {error}") from None

    def export(self, output: IO[bytes], rdf_format: RdfFormat) -> None:
        export(self.reader(), output, rdf_format)  # type: ignore[arg-type]

    def quad_count(self) -> int:
        return len(self.reader())

    def named_graphs(self) -> list[NamedNode]:
        return list(self.reader().named_graphs())

    # --- writing ----------------------------------------------------------------------------

    def commit(self, changes: Changeset) -> None:
        if changes:
            self._publishing(lambda: self.working.commit(changes), lambda _, __: changes.written)

    def update(self, sparql: str, base_iri: str | None = None) -> None:
        self._publishing(lambda: self.working.update(sparql, base_iri=base_iri), _changed_graphs)

    def bulk_load(self, path: Path, rdf_format: RdfFormat) -> None:
        self._publishing(lambda: self.working.bulk_load(path, rdf_format), _changed_graphs)

    def _publishing(
        self, write: Callable[[], None], written: Callable[[Store, Store], Iterable[NamedNode]]
    ) -> None:
        """Runs `write` on the working copy (brought to the engine's version first), then sends
        the graphs it changed to the engine; the working copy is marked unsynced when that
        fails, so the next commit starts again from what the engine has."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        with self._lock():
            with _sending():
                self._drop_left_overs()
            engine_version = self.version()
            if engine_version is not None:
                self._check_default_graph()
            synced = self.workdir / SYNCED
            if not synced.exists() or synced.read_text() != (engine_version or "empty"):
                self._refresh(engine_version)
            before = self.working.snapshot()
            write()
            after = self.working.snapshot()
            if after == before:
                return
            version = new_version()
            synced.write_text("")
            old, new = _open(before), _open(after)
            graphs = sorted(set(written(old, new)), key=str)
            with _sending():
                self._publish(old, new, graphs, version, first=engine_version is None)
            synced.write_text(version)

    def _check_default_graph(self) -> None:
        """Refuses to write where the engine's default graph is the union of its graphs but
        kg was not told: kg's default graph would be read with every graph's triples twice."""
        if self.default_graph is not None:
            return
        graph = version_graph(self.endpoints.base_iri)
        query = f"SELECT ?v WHERE {{ {graph} {OWL.versionInfo} ?v }} LIMIT 1"
        if self._read(query):
            raise StoreError(
                "the SPARQL engine's default graph is the union of all its graphs: "
                "set KG_STORE_UNION_DEFAULT_GRAPH=true"
            )

    def _refresh(self, engine_version: str | None) -> None:
        """Makes the working copy what the engine holds (every named graph but the version's)."""
        reader = self._engine()
        quads = (
            q
            for q in reader.quads_for_pattern(None, None, None, None)
            if not isinstance(q.graph_name, DefaultGraph)
        )
        try:
            self.working.replace_all(quads)
        except (SyntaxError, OSError) as error:
            raise StoreError(f"the store on the SPARQL engine cannot be read: {error}") from None
        (self.workdir / SYNCED).write_text(engine_version or "empty")

    def _publish(
        self, old: Store, new: Store, graphs: list[NamedNode], version: str, first: bool
    ) -> None:
        """The change, sent the way the engine takes it best. The `first` change of an engine
        without kg's data deletes nothing: loaded in place (`_load_in_place`). Else, where an
        update request is one transaction and the change fits REQUEST_BYTES, one update
        request: each changed graph dropped and written again, the default graph (the union of
        the named graphs) changed by what left and joined it, the new version. Else uploaded
        into staging graphs through the graph store (engines parse N-Quads and N-Triples faster
        than update text), then moved into place and versioned by one request (by a few, the
        version last, where a request is not one transaction)."""
        engine, base_iri = self.endpoints.engine, self.endpoints.base_iri
        kg_graphs = sorted(g for g in new.named_graphs() if isinstance(g, NamedNode))
        request = _Request(self.skolem, old, new, graphs, self.default_graph)
        final = version_update(base_iri, version, kg_graphs)
        if first and request.first:
            self._load_in_place(request, version, final)
            return
        if engine.atomic_requests:
            with _spooled() as body:
                for text in request.operations():
                    body.write(text.encode())
                    if body.tell() > self._request_bytes():
                        break
                else:
                    body.write("".join(final).encode())
                    self._send(body)
                    return
        staging = Staging(self.endpoints.base_iri, version, graphs, self.default_graph)
        self._send_in_parts([staging.begin()])
        try:
            self._upload(request.staged(staging))
            if engine.atomic_requests:  # moved and versioned as one
                self._send_in_parts(["".join(staging.finish() + final)])
            else:  # the version last, on its own
                self._send_moves(staging.finish())
                self._send_in_parts(final)
        except BaseException:
            with suppress(OSError, SyntaxError):
                self._send_moves(staging.drop())
            raise

    def _load_in_place(self, request: "_Request", version: str, final: list[str]) -> None:
        """The first change of an engine without kg's data, written straight into its graphs
        (with the engine's bulk loader where it has one: a transaction would hold it all in the
        engine's memory). The load is registered first, with the list of its graphs: until the
        version lands, kg's readers see an empty store, and a load killed on the way is dropped
        by the next commit."""
        load = InPlaceLoad(self.endpoints.base_iri, version, request.graphs, self.default_graph)
        self._send_in_parts([load.begin()])
        try:
            self._upload([(load.map, load.map_quads())])
            self._upload(request.added(), bulk=True)
        except BaseException:
            with suppress(OSError, SyntaxError):
                self._send_moves(load.drop())
            raise
        # Unregistered before versioned: a load killed in between is whole, only unversioned.
        if self.endpoints.engine.atomic_requests:
            self._send_in_parts(["".join(load.release() + final)])
        else:
            self._send_moves(load.release())
            self._send_in_parts(final)

    def _drop_left_overs(self) -> None:
        """Drops what a commit killed while staging, or loading in place, left in the engine
        (out of kg's dataset)."""
        base_iri = self.endpoints.base_iri
        for row in self._read(Staging.register_query(base_iri)):
            kind = InPlaceLoad if row["in_place"] is not None else Staging
            self._send_moves(kind.left_over(base_iri, row["map"], self.default_graph).drop())

    def _send_moves(self, operations: list[str]) -> None:
        """Operations over a staged change, each on its own after the engine's move pragma
        where it has one."""
        if pragma := self.endpoints.engine.move_pragma:
            for operation in operations:
                self._send_in_parts([pragma + operation])
        else:
            self._send_in_parts(operations)

    def _send_in_parts(self, texts: Iterable[str]) -> None:
        """Requests of about REQUEST_BYTES and at most the engine's operations, cut between
        operations (a text ending with ";\n" ends one)."""
        most = self.endpoints.engine.max_operations
        body, operations = _spooled(), 0
        try:
            for text in texts:
                body.write(text.encode())
                if not text.endswith(";\n"):
                    continue
                operations += 1
                if body.tell() >= self._request_bytes() or operations == most:
                    self._send(body)
                    body.close()
                    body, operations = _spooled(), 0
            if body.tell():
                self._send(body)
        finally:
            body.close()

    def _upload(self, parts: Iterable[tuple[Graph, Iterable[Quad]]], bulk: bool = False) -> None:
        """The quads of each (graph, quads) part sent through the graph store as the engine
        takes them (Engine.graph_store), with its bulk loader if `bulk` and it has one."""
        if self.endpoints.engine.graph_store == "graph":
            self._upload_graphs(parts)
            return
        url = self.endpoints.graph
        if bulk and self.endpoints.engine.bulk_parameter:
            url += "?" + self.endpoints.engine.bulk_parameter
        self._upload_dataset(parts, url)

    def _upload_dataset(self, parts: Iterable[tuple[Graph, Iterable[Quad]]], url: str) -> None:
        """The quads of each (graph, quads) part POSTed to the graph store as one N-Quads dataset
        (Oxigraph adds them to their graphs), in requests of about REQUEST_BYTES: a request per
        graph would cost a transaction per graph, and a load has thousands of small graphs."""
        quads = (quad for graph, graph_quads in parts for quad in self._sent(graph_quads, graph))
        self._post_batches(quads, RdfFormat.N_QUADS, url)

    def _upload_graphs(self, parts: Iterable[tuple[Graph, Iterable[Quad]]]) -> None:
        """The triples of each (graph, quads) part POSTed to that graph in the graph store, in
        requests of about REQUEST_BYTES."""
        for graph, quads in parts:
            url = f"{self.endpoints.graph}?{urlencode({'graph': graph.value})}"
            self._post_batches(self._sent(quads, DefaultGraph()), RdfFormat.N_TRIPLES, url)

    def _post_batches(self, quads: Iterator[Quad], rdf_format: RdfFormat, url: str) -> None:
        body = _spooled()
        try:
            while batch := list(itertools.islice(quads, UPLOAD_BATCH)):
                serialize(batch, body, rdf_format)
                if body.tell() >= self._request_bytes():
                    self._send(body, url, rdf_format.media_type)
                    body.close()
                    body = _spooled()
            if body.tell():
                self._send(body, url, rdf_format.media_type)
        finally:
            body.close()

    def _sent(self, quads: Iterable[Quad], graph: Graph) -> Iterator[Quad]:
        """The quads as the engine is sent them: in `graph`, blank nodes as skolem IRIs."""
        term = self.skolem.term
        return (Quad(term(q.subject), q.predicate, term(q.object), graph) for q in quads)

    def _send(self, body: IO[bytes], url: str | None = None, media_type: str = UPDATE) -> None:
        length = body.tell()
        url = url or self.endpoints.update
        timeout = self.endpoints.write_timeout
        response = post(self.endpoints, url, body, media_type, length=length, timeout=timeout)
        response.read()
        response.close()

    def _request_bytes(self) -> int:
        return min(REQUEST_BYTES, self.endpoints.engine.max_request_bytes // 2)

    def _lock(self) -> AbstractContextManager[None]:
        return exclusive_lock(self.workdir, PUBLISH_LOCK)


class Staging:
    """Where a change too large for one request is written before one request moves it into
    place: a graph per changed graph, what joins and leaves the default graph, and a map from
    each staged graph to the graph it replaces (so that the move is a few operations over all
    graphs, not one per graph: loads have thousands). Each staging is listed in a register
    graph until it is dropped, so that the next commit drops what a killed one left."""

    def __init__(
        self,
        base_iri: str,
        version: str,
        graphs: list[NamedNode],
        default_graph: NamedNode | None = None,
    ) -> None:
        prefix = f"{base_iri}{STAGING}{version}/"
        self.graphs = {graph: self._staged(prefix, n, graph) for n, graph in enumerate(graphs)}
        self.joined, self.left = NamedNode(prefix + "joined"), NamedNode(prefix + "left")
        self.map, self.replaces = NamedNode(prefix + "map"), NamedNode(prefix + "replaces")
        self.default_graph = default_graph
        register = _register(base_iri)
        listed = f"{register} {DCTERMS.hasPart} {self.map} . {self._marks()}"
        self.listed = f"GRAPH {register} {{ {listed} }}"

    def _marks(self) -> str:
        """What the register says of this kind of staging's map, besides listing it."""
        return ""

    @staticmethod
    def _staged(prefix: str, number: int, graph: NamedNode) -> NamedNode:
        return NamedNode(f"{prefix}{number}")

    @classmethod
    def left_over(
        cls, base_iri: str, map_graph: NamedNode, default_graph: NamedNode | None
    ) -> "Staging":
        """The staging whose map is `map_graph`, as the register lists it."""
        version = map_graph.value.removeprefix(base_iri + STAGING).removesuffix("/map")
        return cls(base_iri, version, [], default_graph)

    @staticmethod
    def register_query(base_iri: str) -> str:
        """The maps of the stagings registered (and ?in_place, bound for in-place loads)."""
        register = _register(base_iri)
        in_place = f"OPTIONAL {{ ?map {DCTERMS.type} ?in_place }}"
        pattern = f"GRAPH {register} {{ {register} {DCTERMS.hasPart} ?map {in_place} }}"
        return f"SELECT ?map ?in_place FROM NAMED {register} WHERE {{ {pattern} }}"

    def begin(self) -> str:
        return f"INSERT DATA {{ {self.listed} }} ;\n"

    def map_quads(self) -> Iterator[Quad]:
        for graph, staged in self.graphs.items():
            yield Quad(staged, self.replaces, graph, self.map)

    def finish(self) -> list[str]:
        spo = "?s ?p ?o"
        mapped = f"GRAPH {self.map} {{ ?staged {self.replaces} ?graph }}"
        into = f"GRAPH {self.default_graph} {{ {spo} }}" if self.default_graph else spo
        operations = [
            f"DELETE {{ GRAPH ?graph {{ {spo} }} }} WHERE {{ {mapped} GRAPH ?graph {{ {spo} }} }}",
            f"INSERT {{ GRAPH ?graph {{ {spo} }} }} WHERE {{ {mapped} GRAPH ?staged {{ {spo} }} }}",
            f"DELETE {{ {into} }} WHERE {{ GRAPH {self.left} {{ {spo} }} }}",
            f"INSERT {{ {into} }} WHERE {{ GRAPH {self.joined} {{ {spo} }} }}",
            *self._dropping(),
        ]
        return [operation + " ;\n" for operation in operations]

    def drop(self) -> list[str]:
        return [operation + " ;\n" for operation in self._dropping()]

    def _dropping(self) -> list[str]:
        dropped = (f"DROP SILENT GRAPH {graph}" for graph in (self.left, self.joined))
        return [self._unstaging(), *dropped, *self._unregistering()]

    def _unstaging(self) -> str:
        """Deletes the staged graphs' triples."""
        mapped = f"GRAPH {self.map} {{ ?staged {self.replaces} ?graph }}"
        staged = "GRAPH ?staged { ?s ?p ?o }"
        return f"DELETE {{ {staged} }} WHERE {{ {mapped} {staged} }}"

    def _unregistering(self) -> list[str]:
        return [f"DROP SILENT GRAPH {self.map}", f"DELETE DATA {{ {self.listed} }}"]


class InPlaceLoad(Staging):
    """A first load written straight into the graphs it fills: its map lists each graph as
    staged into itself, so that dropping it (when it was killed) drops them, with the default
    graph, which was empty before it."""

    IN_PLACE = '"in place"'

    def _marks(self) -> str:
        return f"{self.map} {DCTERMS.type} {self.IN_PLACE} ."

    @staticmethod
    def _staged(prefix: str, number: int, graph: NamedNode) -> NamedNode:
        return graph

    @classmethod
    def in_progress_query(cls, base_iri: str) -> str:
        """A row if a first load is in progress (or was killed, until the next commit)."""
        register = _register(base_iri)
        pattern = f"GRAPH {register} {{ ?map {DCTERMS.type} {cls.IN_PLACE} }}"
        return f"SELECT ?map FROM NAMED {register} WHERE {{ {pattern} }} LIMIT 1"

    def release(self) -> list[str]:
        """The load done: unregistered, its graphs kept."""
        return [operation + " ;\n" for operation in self._unregistering()]

    def _dropping(self) -> list[str]:
        default = f"GRAPH {self.default_graph}" if self.default_graph else "DEFAULT"
        return [self._unstaging(), f"DROP SILENT {default}", *self._unregistering()]


class _Request:
    """The operations of a change: the changed graphs' triples, and what leaves and joins the
    default graph (kept in `default_graph` where the engine has no default graph of its own)."""

    def __init__(
        self,
        skolem: Skolem,
        old: Store,
        new: Store,
        graphs: list[NamedNode],
        default_graph: NamedNode | None,
    ) -> None:
        self.skolem, self.old, self.new, self.graphs = skolem, old, new, graphs
        self.default_graph = default_graph

    def operations(self) -> Iterator[str]:
        """The change as update operations straight into place: each changed graph dropped and
        written again, then the default graph's change."""
        for graph in self.graphs:
            yield f"DROP SILENT GRAPH {graph} ;\n"
            yield from self._data("INSERT DATA", self._graph(graph), graph)
        if self.first:
            yield from self._data("INSERT DATA", self._graph(DefaultGraph()), self.default_graph)
            return
        yield from self._data("DELETE DATA", self._left(), self.default_graph)
        yield from self._data("INSERT DATA", self._joined(), self.default_graph)

    def added(self) -> Iterator[tuple[Graph, Iterable[Quad]]]:
        """The first change, in place: (graph, quads) of each graph and of the default graph."""
        yield from ((graph, self._graph(graph)) for graph in self.graphs)
        yield self.default_graph or DefaultGraph(), self._graph(DefaultGraph())

    def staged(self, staging: Staging) -> Iterator[tuple[NamedNode, Iterable[Quad]]]:
        """The change as the content of `staging`'s graphs: (graph, quads)."""
        yield staging.map, staging.map_quads()
        for graph in self.graphs:
            yield staging.graphs[graph], self._graph(graph)
        if self.first:
            yield staging.joined, self._graph(DefaultGraph())
            return
        yield staging.left, self._left()
        yield staging.joined, self._joined()

    @property
    def first(self) -> bool:
        """Into an empty engine: the new default graph is all that joins."""
        return _is_empty(self.old)

    def _graph(self, graph: NamedNode | DefaultGraph) -> Iterator[Quad]:
        return self.new.quads_for_pattern(None, None, None, graph)

    def _left(self) -> Iterator[Quad]:
        """What leaves the default graph: triples of the changed graphs stated nowhere now."""
        left = {
            _triple(quad)
            for graph in self.graphs
            for quad in self.old.quads_for_pattern(None, None, None, graph)
            if not _has(self.new, quad)
        }
        return (Quad(*t) for t in left)

    def _joined(self) -> Iterator[Quad]:
        """What joins the default graph: triples of the changed graphs stated nowhere before."""
        joined = {
            _triple(quad)
            for graph in self.graphs
            for quad in self._graph(graph)
            if not _has(self.old, quad)
        }
        return (Quad(*t) for t in joined)

    def _data(
        self, operation: str, quads: Iterable[Quad], graph: NamedNode | None
    ) -> Iterator[str]:
        """Operations of at most BATCH triples each, into `graph` (None: the default graph)."""
        term = self.skolem.term
        opening = f"{operation} {{ GRAPH {term(graph)} {{\n" if graph else f"{operation} {{\n"
        closing = "} }" if graph else "}"
        count = 0
        for line in self.skolem.ntriples(quads):
            if count == 0:
                yield opening
            yield line
            count += 1
            if count == BATCH:
                yield closing + " ;\n"
                count = 0
        if count:
            yield closing + " ;\n"


@contextmanager
def _sending() -> Iterator[None]:
    """A write to the engine, its failures told as kg's."""
    try:
        yield
    except SyntaxError as error:
        raise StoreError(f"the SPARQL engine refused kg's update: {error}") from None
    except OSError as error:
        raise StoreError(f"the change could not be sent: {error}") from None


def _register(base_iri: str) -> NamedNode:
    return NamedNode(f"{base_iri}{STAGING}register")


def _has(store: Store, quad: Quad) -> bool:
    """Whether the store's default graph (the union) has the quad's triple."""
    found = store.quads_for_pattern(quad.subject, quad.predicate, quad.object, DefaultGraph())
    return next(found, None) is not None


def _is_empty(store: Store) -> bool:
    return next(store.quads_for_pattern(None, None, None, None), None) is None


def _triple(quad: Quad) -> tuple:
    return quad.subject, quad.predicate, quad.object


def _spooled() -> IO[bytes]:
    return tempfile.SpooledTemporaryFile(SPOOL_BYTES)  # type: ignore[return-value]


def _open(snapshot: Snapshot) -> Store:
    return Store.read_only(snapshot.directory) if snapshot.directory else Store()


def _changed_graphs(old: Store, new: Store) -> Iterator[NamedNode]:
    """The named graphs whose content differs between two states (for writes that do not say
    which graphs they touch: SPARQL updates, bulk loads)."""
    graphs = {g for store in (old, new) for g in store.named_graphs() if isinstance(g, NamedNode)}
    if _is_empty(old):
        yield from graphs
        return
    for graph in graphs:
        if _digest(old, graph) != _digest(new, graph):
            yield graph


def _digest(store: Store, graph: NamedNode) -> tuple[int, int]:
    quads = store.quads_for_pattern(None, None, None, graph)
    count = total = 0
    for quad in quads:
        count += 1
        total ^= hash((str(quad.subject), str(quad.predicate), str(quad.object)))
    return count, total
