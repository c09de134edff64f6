"""kg on a remote SPARQL engine (Oxigraph server): what the embedded store's contract tests
(test_load_store) do not cover: the engine's version shared by every kg in front of it, working
copies brought up to date, a load killed while it is being sent, blank nodes, credentials and
errors, the CLI and `kg serve` on the engine."""

import base64
import contextlib
import gc
import http.server
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from conftest import SAMPLE
from engines import ENGINES, Engine, oxigraph, remote_env, remote_settings
from engines import engine as start_engine
from pyoxigraph import BlankNode, DefaultGraph, QuerySolutions
from server_process import ServerProcess, free_port

from kg.checks import checks_dir, load_checks
from kg.errors import QueryError, StoreError
from kg.load import Loader
from kg.named_queries import load_queries
from kg.remote.endpoints import Endpoints
from kg.remote.store import RemoteStore
from kg.settings import DEFAULT_BASE_IRI, Settings
from kg.stores import open_store
from kg.taxonomy import load_vocabulary
from kg.validation import Validator

KG = [sys.executable, "-m", "kg"]
SEED = "001_af4fa749e00a25f6.txt"
HTML = {"Accept": "text/html"}


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest, tmp_path: Path):
    with start_engine(request.param, tmp_path) as server:
        yield server


def load(settings: Settings, *paths: Path, skip_invalid: bool = False):
    loader = Loader(settings, open_store(settings), Validator.for_settings(settings))
    sources = loader.vocabulary_sources() + loader.entry_sources(paths)
    return loader.load(sources, skip_invalid=skip_invalid)


def dataset(settings: Settings) -> set[tuple[str, ...]]:
    """The store's quads as kg reads them, blank nodes and load times left out."""
    return {
        tuple("_" if isinstance(t, BlankNode) else str(t) for t in q)
        for q in open_store(settings).reader().quads_for_pattern(None, None, None, None)
        if q.predicate.value != "http://www.w3.org/ns/prov#generatedAtTime"
    }


def navigator_ids(settings: Settings) -> list[str]:
    rows = open_store(settings).query("SELECT ?id WHERE { ?m kg:navigatorId ?id } ORDER BY ?id")
    return [row["id"].value for row in rows]


def engine_quads(engine: Engine) -> set[str]:
    """Every quad the engine holds, asked directly (not through kg)."""
    query = "SELECT ?s ?p ?o ?g WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }"
    return {
        " ".join(row.get(v, {}).get("value", "") for v in ("s", "p", "o", "g"))
        for row in engine.query(query)
    }


def test_kg_servers_in_front_of_one_engine_agree_on_its_version(engine, tmp_path):
    first = remote_settings(engine, tmp_path / "one")
    second = remote_settings(engine, tmp_path / "two")
    assert open_store(first).snapshot().version == "remote-empty"
    assert load(first, SAMPLE / SEED).committed
    version = open_store(first).snapshot().version
    assert version != "remote-empty"
    assert open_store(second).snapshot().version == version
    # The second one's working copy is brought to the engine's state before its commit: what
    # the first one loaded stays, what the second one loads joins it.
    assert load(second, SAMPLE).committed
    local = Settings(store=tmp_path / "local")
    assert load(local, SAMPLE).committed
    assert navigator_ids(first) == navigator_ids(local) and len(navigator_ids(local)) == 2
    assert dataset(first) == dataset(local)
    latest = open_store(first).snapshot().version
    assert latest not in (version, "remote-empty")
    assert open_store(second).snapshot().version == latest


def test_an_engine_changed_behind_kg_is_read_again(engine, tmp_path):
    settings = remote_settings(engine, tmp_path)
    assert load(settings, SAMPLE).committed
    store = open_store(settings)
    graphs = {g.value for g in store.named_graphs()}
    # Someone drops a page's graph on the engine itself, and sets no version.
    page = next(g for g in graphs if "/graph/file/" in g)
    engine.update(f"DROP SILENT GRAPH <{page}>")
    # Unchanged files write nothing, by what the engine says is loaded: the page is loaded again.
    report = load(settings, SAMPLE)
    assert report.committed and report.unchanged == report.files - 1
    assert page in {g.value for g in open_store(settings).named_graphs()}


def test_blank_nodes_read_back_as_blank_nodes(engine, tmp_path):
    remote = remote_settings(engine, tmp_path)
    local = Settings(store=tmp_path / "local")
    for settings in (remote, local):
        assert load(settings, SAMPLE).committed
    kinds = {}
    for name, settings in (("remote", remote), ("local", local)):
        reader = open_store(settings).reader()
        blanks = {
            q.subject for q in reader.quads_for_pattern(None, None, None, DefaultGraph())
            if isinstance(q.subject, BlankNode)
        }  # fmt: skip
        # A blank node named in a later read is found again (OWL lists of the vocabulary).
        described = sum(
            len(list(reader.quads_for_pattern(b, None, None, DefaultGraph()))) for b in blanks
        )
        kinds[name] = (len(blanks), described)
    assert kinds["remote"] == kinds["local"] and kinds["local"][0] > 0
    # SPARQL answers through kg show blank nodes, as the embedded store's do; the engine holds
    # skolem IRIs under the base.
    rows = open_store(remote).query("SELECT ?s WHERE { ?s rdf:first ?x } LIMIT 1")
    assert isinstance(rows, QuerySolutions)
    assert [type(row["s"]) for row in rows] == [BlankNode]
    construct = "CONSTRUCT { ?s rdf:first ?x } WHERE { ?s rdf:first ?x } LIMIT 1"
    assert [type(t.subject) for t in open_store(remote).query(construct)] == [BlankNode]
    skolem = remote.base_iri + ".well-known/genid/"
    assert any(quad.startswith(skolem) for quad in engine_quads(engine))


class _Relay(threading.Thread):
    """A TCP relay to the engine that stops passing a client's request on once `limit` bytes of
    writes (updates, uploads), counted over requests, went through (`held` is then set): kg,
    killed at that moment, has sent part of its change, and is in the middle of a request."""

    def __init__(self, target_port: int, limit: int) -> None:
        super().__init__(daemon=True)
        self.port = free_port()
        self.target_port = target_port
        self.limit = limit
        self.sent = 0
        self.held = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", self.port))
        self.clients: list[socket.socket] = []

    def run(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.clients.append(client)
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            threading.Thread(target=self._pipe, args=(upstream, client), daemon=True).start()
            threading.Thread(target=self._forward, args=(client, upstream), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            sink.close()

    def _forward(self, client: socket.socket, upstream: socket.socket) -> None:
        is_write = None
        try:
            while data := client.recv(65536):
                if is_write is None:
                    is_write = any(
                        t in data for t in (b"sparql-update", b"/n-quads", b"/n-triples")
                    )
                if is_write and self.sent + len(data) >= self.limit:
                    upstream.sendall(data[: self.limit - self.sent])
                    self.held.set()
                    while client.recv(65536):  # the rest never reaches the engine
                        pass
                    break
                upstream.sendall(data)
                if is_write:
                    self.sent += len(data)
        except OSError:
            pass
        finally:
            upstream.close()  # the engine sees the request end before its body did

    def close(self) -> None:
        """Stops taking connections and cuts the open ones (as a network failure would)."""
        with contextlib.suppress(OSError):  # wakes the accept() of run(), which close() does not
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        for client in self.clients:
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)


def _killed_while_sending(engine: Engine, tmp_path: Path, *paths: Path) -> None:
    """`kg load` of `paths`, killed once it has sent 256 KiB of its change."""
    relay = _Relay(engine.port, limit=256 * 1024)
    relay.start()
    relayed = engine.store_url.replace(f":{engine.port}", f":{relay.port}")
    env = {**remote_env(engine, tmp_path), "KG_STORE": relayed}
    try:
        process = subprocess.Popen([*KG, "load", "--skip-invalid", *map(str, paths)], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
        assert relay.held.wait(120), "kg never sent its change"
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    finally:
        relay.close()


def unstaged(engine: Engine, quads: set[str]) -> set[str]:
    """The quads outside kg's staging graphs (which a killed load leaves, out of kg's dataset,
    until the next commit drops them); the named graphs' only, where the default graph is the
    union of all graphs."""
    union = engine.kind == "virtuoso" or engine.union_default_graph
    named = {quad for quad in quads if not (union and quad.endswith(" "))}  # graph ""
    return {quad for quad in named if "/graph/staging/" not in quad.rsplit(" ", 1)[1]}


@pytest.mark.shared
def test_a_load_killed_while_it_is_sent_leaves_the_engine_as_it_was(engine, tmp_path, corpus):
    settings = remote_settings(engine, tmp_path)
    assert load(settings, SAMPLE).committed
    before, version = engine_quads(engine), open_store(settings).snapshot().version
    _killed_while_sending(engine, tmp_path, corpus)
    assert unstaged(engine, engine_quads(engine)) == unstaged(engine, before)
    assert open_store(settings).snapshot().version == version
    # The next load drops what was staged, starts from what the engine has, and lands whole.
    assert load(settings, SAMPLE, corpus, skip_invalid=True).committed
    assert open_store(settings).snapshot().version != version
    assert not [g for g in engine_graphs(engine) if "/graph/staging/" in g]
    local = Settings(store=tmp_path / "local")
    assert load(local, SAMPLE, corpus, skip_invalid=True).committed
    assert dataset(settings) == dataset(local)


@pytest.mark.shared
def test_a_first_load_killed_while_it_is_sent_is_never_seen(engine, tmp_path, corpus):
    own_graphs = engine_graphs(engine)  # Virtuoso's
    _killed_while_sending(engine, tmp_path, SAMPLE, corpus)
    settings = remote_settings(engine, tmp_path)
    if engine.kind == "virtuoso":  # a graph a request: part of it is in place
        assert [g for g in engine_graphs(engine) - own_graphs if "/graph/staging/" not in g]
    store = open_store(settings)
    assert store.version() is None and store.snapshot().version == "remote-loading"
    assert store.quad_count() == 0 and not store.named_graphs()
    assert not list(store.query("SELECT * WHERE { ?s ?p ?o }"))
    # The next load drops the killed one's graphs, then lands whole.
    _lands_whole(engine, settings, own_graphs, tmp_path)


def _lands_whole(engine: Engine, settings: Settings, own_graphs: set[str], tmp_path: Path) -> None:
    """A load after a killed first one lands whole: the dataset of the embedded store, and in
    the engine only its graphs (and kg's own: version, union), none of the killed load's."""
    assert load(settings, SAMPLE).committed
    local = Settings(store=tmp_path / "local")
    assert load(local, SAMPLE).committed
    assert dataset(settings) == dataset(local)
    base = settings.base_iri
    kept = {g.value for g in open_store(local).named_graphs()} | {base + "graph/version"}
    assert engine_graphs(engine) - own_graphs - {base + "graph/union"} == kept


def test_a_first_load_is_not_seen_until_it_lands(engine, tmp_path, monkeypatch):
    """Held part-way (several requests in), then cut off with its clean-up (as a kill would):
    readers see an empty store all along; the next load drops what was written, lands whole."""
    monkeypatch.setattr("kg.remote.store.REQUEST_BYTES", 20_000)
    monkeypatch.setattr("kg.remote.store.UPLOAD_BATCH", 100)
    own_graphs = engine_graphs(engine)
    relay = _Relay(engine.port, limit=100_000)
    relay.start()
    relayed = remote_settings(engine, tmp_path, store=engine.store_url.replace(
        f":{engine.port}", f":{relay.port}"))  # fmt: skip
    failures: list[type] = []

    def loading() -> None:
        try:
            load(relayed, SAMPLE)
        except BaseException as error:  # noqa: BLE001 (told to the test's thread)
            failures.append(type(error))  # not the error: its frames hold store iterators
        gc.collect()  # which must be dropped on the thread that made them

    thread = threading.Thread(target=loading)
    thread.start()
    try:
        assert relay.held.wait(120), "kg never sent its change"
        settings = remote_settings(engine, tmp_path / "reader")
        in_place = [g for g in engine_graphs(engine) - own_graphs if "/graph/staging/" not in g]
        assert in_place
        store = open_store(settings)
        assert store.snapshot().version == "remote-loading"
        assert store.quad_count() == 0 and not store.named_graphs()
    finally:
        relay.close()
        thread.join(120)
    assert failures == [StoreError]
    assert open_store(settings).snapshot().version == "remote-loading"
    _lands_whole(engine, settings, own_graphs, tmp_path)


def test_settings_name_the_engine_services_and_credentials(tmp_path):
    oxigraph_layout = Endpoints.from_settings(Settings(store="sparql+http://127.0.0.1:7878/"))
    assert (oxigraph_layout.query, oxigraph_layout.update, oxigraph_layout.graph) == (
        "http://127.0.0.1:7878/query",
        "http://127.0.0.1:7878/update",
        "http://127.0.0.1:7878/store",
    )
    assert oxigraph_layout.union_graph is None
    virtuoso_layout = Endpoints.from_settings(Settings(store="virtuoso+http://127.0.0.1:8890"))
    assert (virtuoso_layout.query, virtuoso_layout.update, virtuoso_layout.graph) == (
        "http://127.0.0.1:8890/sparql",
        "http://127.0.0.1:8890/sparql",
        "http://127.0.0.1:8890/sparql-graph-crud",
    )
    assert virtuoso_layout.union_graph == DEFAULT_BASE_IRI + "graph/union"
    assert not virtuoso_layout.engine.atomic_requests
    union = Settings(store="sparql+http://127.0.0.1:7878", store_union_default_graph=True)
    assert Endpoints.from_settings(union).union_graph == DEFAULT_BASE_IRI + "graph/union"
    virtuoso = Endpoints.from_settings(
        Settings(
            store="virtuoso+https://example.org:8890",
            store_update_url="https://example.org:8890/sparql-auth",
            store_user="dba",
            store_password="secret-password",
        )
    )
    assert (virtuoso.query, virtuoso.update) == (
        "https://example.org:8890/sparql",
        "https://example.org:8890/sparql-auth",
    )
    assert virtuoso.authorization == "Basic " + base64.b64encode(b"dba:secret-password").decode()
    assert "secret" not in repr(virtuoso)
    bearer = Endpoints.from_settings(Settings(store="sparql+http://h:1", store_token="t0ken-t0ken"))
    assert bearer.authorization == "Bearer t0ken-t0ken"
    with pytest.raises(ValueError, match="virtuoso\\+http\\(s\\)://"):
        Settings(store="ftp://example.org/store")
    assert Settings(store=tmp_path).store_dir == tmp_path


@contextlib.contextmanager
def fake_engine(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 answering as `handler` says; yields its KG_STORE."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"sparql+http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_credentials_are_sent_and_a_refusal_is_reported(tmp_path):
    seen: list[str | None] = []

    class Refusing(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            seen.append(self.headers.get("Authorization"))
            self.send_response(401)
            self.end_headers()
            self.wfile.write(b"wrong password")

        def log_message(self, *args: object) -> None:
            pass

    with fake_engine(Refusing) as store:
        settings = Settings(store=store, store_workdir=tmp_path, store_token="t0ken-t0ken")
        with pytest.raises(StoreError, match="refused kg's credentials \\(wrong password\\)"):
            open_store(settings).snapshot()
    assert seen == ["Bearer t0ken-t0ken"]


def test_writes_wait_for_the_engine_longer_than_reads(tmp_path):
    """An engine answers an upload or a move only once it has applied it: KG_STORE_WRITE_TIMEOUT
    bounds that wait, KG_STORE_TIMEOUT a read's."""

    class Slow(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            self.rfile.read(int(self.headers["Content-Length"]))
            time.sleep(1)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    with fake_engine(Slow) as url:
        settings = Settings(
            store=url, store_workdir=tmp_path, store_timeout=0.3, store_write_timeout=10
        )
        store = RemoteStore(settings)
        with pytest.raises(QueryError, match="timed out"):
            store.query("ASK {}")
        with tempfile.TemporaryFile() as body:
            body.write(b"INSERT DATA { <urn:s> <urn:p> <urn:o> }")
            store._send(body)  # waited for: no error


def test_an_unreachable_engine_is_a_clear_error(tmp_path):
    settings = Settings(store=f"sparql+http://127.0.0.1:{free_port()}", store_workdir=tmp_path)
    store = RemoteStore(settings)
    with pytest.raises(StoreError, match="cannot be reached"):
        store.snapshot()
    with pytest.raises(QueryError, match="cannot be reached"):
        store.query("ASK {}")
    env = {**os.environ, "KG_STORE": settings.store, "KG_STORE_WORKDIR": str(tmp_path)}
    done = subprocess.run([*KG, "load", str(SAMPLE)], env=env, capture_output=True, check=False)
    assert done.returncode == 2
    assert b"cannot be reached" in done.stderr and b"Traceback" not in done.stderr


def test_an_invalid_query_is_reported_as_one(engine, tmp_path):
    store = open_store(remote_settings(engine, tmp_path))
    with pytest.raises(QueryError, match="invalid SPARQL"):
        store.query("SELEC * WHERE { ?s ?p ?o }")


def test_the_cli_on_the_engine(engine, tmp_path):
    env = remote_env(engine, tmp_path)

    def kg(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*KG, *args], env=env, capture_output=True, check=False)

    assert kg("load", str(SAMPLE)).returncode == 0
    answer = kg(
        "query", "--format", "json", "SELECT ?id WHERE { ?m kg:navigatorId ?id } ORDER BY ?id"
    )
    assert answer.returncode == 0, answer.stderr
    assert [
        row["id"]["value"] for row in json.loads(answer.stdout)["results"]["bindings"]
    ] == navigator_ids(remote_settings(engine, tmp_path))
    assert kg("validate").returncode == 0
    assert kg("check").returncode == 0
    exported = kg("export", "--format", "nquads")
    assert exported.returncode == 0 and b"/graph/file/" in exported.stdout
    bad = subprocess.run([*KG, "--store", "ftp://x/y", "stats"], capture_output=True, check=False)
    assert bad.returncode == 2 and b"virtuoso+http(s)://" in bad.stderr


def test_kg_serve_on_the_engine(engine, tmp_path):
    env = remote_env(engine, tmp_path)
    subprocess.run([*KG, "load", str(SAMPLE)], env=env, check=True, capture_output=True)
    token = "update-token-for-tests"
    command = [*KG, "serve", "--port", "{port}", "--update-token", token]
    with ServerProcess(command, env=env) as server, httpx.Client(base_url=server.url) as client:
        home = client.get("/")
        assert home.status_code == 200 and "mitigation" in home.text.lower()
        tag = home.headers["etag"]
        mitigation = next(
            iter(
                open_store(remote_settings(engine, tmp_path)).query(
                    "SELECT ?m WHERE { ?m kg:navigatorId ?id } ORDER BY ?id LIMIT 1"
                )
            )
        )["m"].value
        path = mitigation.removeprefix("https://w3id.org/airm-kg")
        page = client.get(path, headers={"Accept": "text/html"})
        assert page.status_code == 200 and "<h1" in page.text
        turtle = client.get(path, headers={"Accept": "text/turtle"})
        assert turtle.status_code == 200 and mitigation in turtle.text
        answer = client.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) { ?m a kg:Mitigation }"},
                            headers={"Accept": "application/sparql-results+json"})  # fmt: skip
        assert answer.status_code == 200
        assert int(answer.json()["results"]["bindings"][0]["n"]["value"]) == 8
        update = client.post("/sparql", data={"update": 'INSERT DATA { GRAPH <urn:g> { <urn:a> rdfs:label "a" } }'},
                             headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        assert update.status_code in (200, 204), update.text
        assert client.get("/").headers["etag"] != tag
        count = client.get("/sparql", params={"query": "ASK { <urn:a> rdfs:label 'a' }"},
                           headers={"Accept": "application/sparql-results+json"})  # fmt: skip
        assert count.json()["boolean"] is True
        invalid = client.get("/sparql", params={"query": "SELEC"})
        assert invalid.status_code == 400


def test_kg_serve_answers_503_while_the_engine_is_away(tmp_path):
    with oxigraph(tmp_path) as engine:
        env = remote_env(engine, tmp_path)
        subprocess.run([*KG, "load", str(SAMPLE)], env=env, check=True, capture_output=True)
        server = ServerProcess([*KG, "serve", "--port", "{port}"], env=env).start()
    try:  # the engine has stopped; kg still runs
        with httpx.Client(base_url=server.url) as client:
            for path in ("/", "/sparql?query=ASK%7B%7D"):
                answer = client.get(path, headers={"Cache-Control": "no-cache"})
                assert answer.status_code == 503, (path, answer.text)
                assert "cannot be reached" in answer.text
    finally:
        server.stop()


def engine_graphs(engine: Engine) -> set[str]:
    rows = engine.query("SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    return {row["g"]["value"] for row in rows}


def _counting_sends(monkeypatch) -> tuple[list[int], list[str]]:
    """The body sizes of the requests kg sends the engine, and the URLs of its uploads."""
    sent: list[int] = []
    uploads: list[str] = []
    real_send = RemoteStore._send

    def counted(self, body, url=None, *args):
        sent.append(body.tell())
        if url is not None:
            uploads.append(url)
        real_send(self, body, url, *args)

    monkeypatch.setattr(RemoteStore, "_send", counted)
    return sent, uploads


def test_a_change_larger_than_a_request_is_staged_then_moved_in_one(engine, tmp_path, monkeypatch):
    monkeypatch.setattr("kg.remote.store.REQUEST_BYTES", 20_000)
    monkeypatch.setattr("kg.remote.store.UPLOAD_BATCH", 100)
    pages = tmp_path / "pages"
    pages.mkdir()
    for page in SAMPLE.glob("*.txt"):
        (pages / page.name).write_bytes(page.read_bytes())
    remote, local = remote_settings(engine, tmp_path), Settings(store=tmp_path / "local")
    for settings in (remote, local):  # the engine's first change (it replaces nothing)
        assert load(settings, pages / SEED).committed
    sent, uploads = _counting_sends(monkeypatch)
    for settings in (remote, local):
        assert load(settings, pages).committed
    assert len(sent) >= 3 and max(sent) < 20_000 + 400_000  # staged in parts, then moved
    # Staged at the graph store: Oxigraph takes N-Quads at /store, Virtuoso a graph a request.
    if engine.kind == "sparql":
        assert uploads and all(url == engine.url + "/store" for url in uploads)
    else:
        staging = (
            engine.url
            + "/sparql-graph-crud?graph=https%3A%2F%2Fw3id.org%2Fairm-kg%2Fgraph%2Fstaging%2F"
        )
        assert len(uploads) >= 3 and all(url.startswith(staging) for url in uploads)
    assert dataset(remote) == dataset(local)
    # A replaced page: what leaves the default graph is staged too.
    page = pages / SEED
    page.write_text(page.read_text(encoding="utf-8").replace("Developer\n", "Deployer\n"))
    for settings in (remote, local):
        assert load(settings, pages).committed
    assert dataset(remote) == dataset(local)
    assert not [g for g in engine_graphs(engine) if "/graph/staging/" in g]


def test_the_first_change_of_an_engine_is_loaded_in_place(engine, tmp_path, monkeypatch):
    """Into an engine without kg's data, a change deletes nothing: its graphs are written where
    they go, by Oxigraph's bulk loader (no transaction holding it all), nothing moved after."""
    monkeypatch.setattr("kg.remote.store.REQUEST_BYTES", 20_000)
    monkeypatch.setattr("kg.remote.store.UPLOAD_BATCH", 100)
    sent, uploads = _counting_sends(monkeypatch)
    remote, local = remote_settings(engine, tmp_path), Settings(store=tmp_path / "local")
    for settings in (remote, local):
        assert load(settings, SAMPLE).committed
    staging = quote(remote.base_iri + "graph/staging/", safe="")
    if engine.kind == "sparql":
        bulk = [url for url in uploads if url == engine.url + "/store?no_transaction"]
        assert len(bulk) > 3 and len(uploads) == len(bulk) + 1  # the map: one transaction
    else:  # a graph (or part of one) a request, only the map's under staging
        into = [url.split("?graph=")[1] for url in uploads]
        assert len(into) > 3 and sum(graph.startswith(staging) for graph in into) == 1
    # Registered first; then unregistered and versioned (one request where it is atomic).
    assert len(sent) - len(uploads) == (2 if engine.kind == "sparql" else 4)
    assert dataset(remote) == dataset(local)
    assert open_store(remote).snapshot().version not in ("remote-loading", "remote-empty")
    assert not [g for g in engine_graphs(engine) if "/graph/staging/" in g]


def test_a_staged_change_that_fails_leaves_the_engine_as_it_was(engine, tmp_path, monkeypatch):
    settings = remote_settings(engine, tmp_path)
    assert load(settings, SAMPLE / SEED).committed
    before = engine_quads(engine)
    monkeypatch.setattr("kg.remote.store.REQUEST_BYTES", 20_000)
    monkeypatch.setattr("kg.remote.store.UPLOAD_BATCH", 100)
    real_send = RemoteStore._send
    calls = []

    def failing(self, body, *args):
        calls.append(1)
        if len(calls) == 3:
            raise OSError("connection reset by the test")
        real_send(self, body, *args)

    monkeypatch.setattr(RemoteStore, "_send", failing)
    with pytest.raises(StoreError, match="connection reset by the test"):
        load(settings, SAMPLE)
    assert engine_quads(engine) == before  # staged graphs dropped, nothing moved
    monkeypatch.setattr(RemoteStore, "_send", real_send)
    assert load(settings, SAMPLE).committed  # the working copy is read again first
    local = Settings(store=tmp_path / "local")
    assert load(local, SAMPLE).committed
    assert dataset(settings) == dataset(local)


def test_pages_on_the_engine_are_the_pages_of_the_embedded_store(engine, tmp_path):
    """Every page of the sample data, and the site's own pages, read the same from both stores
    (load times aside)."""
    remote_env_ = remote_env(engine, tmp_path)
    local_env = {**os.environ, "KG_STORE": str(tmp_path / "local")}
    for env in (remote_env_, local_env):
        subprocess.run([*KG, "load", str(SAMPLE)], env=env, check=True, capture_output=True)
    local = Settings(store=tmp_path / "local")
    rows = open_store(local).query(
        "SELECT DISTINCT ?s WHERE { ?s ?p ?o FILTER(STRSTARTS(STR(?s), 'https://w3id.org/airm-kg/')"
        " && !CONTAINS(STR(?s), '/graph/')) } ORDER BY ?s"
    )
    paths = [row["s"].value.removeprefix("https://w3id.org/airm-kg") for row in rows]
    assert len(paths) > 100
    paths += ["/", "/coverage", "/ontology", "/search?q=privacy", "/queries"]
    served = [*KG, "serve", "--port", "{port}"]
    with (
        ServerProcess(served, env=remote_env_) as on_engine,
        ServerProcess(served, env=local_env) as embedded,
        httpx.Client(timeout=60) as client,
    ):
        for path in paths:
            pages = [
                client.get(server.url + path, headers=HTML) for server in (on_engine, embedded)
            ]
            assert pages[0].status_code == pages[1].status_code, path
            assert _timeless(pages[0].text) == _timeless(pages[1].text), path


def _timeless(text: str) -> str:
    """The page without load times and blank node labels (each store draws its own)."""
    text = re.sub(r"_:[0-9a-zA-Z]+", "_:b", text)
    return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?", "TIME", text)


def _rows(result) -> list[tuple[str, ...]]:
    """Rows in a comparable form: blank nodes unnamed, rows sorted."""
    if isinstance(result, bool) or not isinstance(result, QuerySolutions):
        return [(str(bool(result)),)]
    names = [v.value for v in result.variables]
    return sorted(
        tuple("_" if isinstance(row[n], BlankNode) else str(row[n]) for n in names)
        for row in result
    )


def test_named_queries_and_checks_answer_the_same_on_the_engine(engine, tmp_path, corpus):
    """Every named query (its parameters at their defaults) and every check gives the rows it
    gives on the embedded store: the queries are written in SPARQL every engine runs."""
    remote, local = remote_settings(engine, tmp_path), Settings(store=tmp_path / "local")
    for settings in (remote, local):
        assert load(settings, SAMPLE, corpus, skip_invalid=True).committed
    notations = load_vocabulary(local.ontology_dir).categories.keys()
    named = [q.bind({}, notations) for q in load_queries(local.queries_dir).values()]
    checks = [q.text for q in load_checks(checks_dir(local))]
    assert len(named) >= 25 and len(checks) >= 5
    answered = 0
    for query in named + checks:
        answers = [_rows(open_store(s).query(query, base_iri=s.base_iri)) for s in (remote, local)]
        assert answers[0] == answers[1], query
        answered += answers[1] != []
    assert answered >= 20


def test_a_union_default_graph_kg_was_not_told_of_is_refused(tmp_path):
    with start_engine("oxigraph-union", tmp_path) as engine:
        settings = remote_settings(engine, tmp_path, store_union_default_graph=False)
        assert load(settings, SAMPLE / SEED).committed  # an empty engine shows nothing yet
        with pytest.raises(StoreError, match="KG_STORE_UNION_DEFAULT_GRAPH=true"):
            load(settings, SAMPLE)
