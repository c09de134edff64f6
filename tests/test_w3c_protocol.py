"""The W3C SPARQL 1.1 Protocol suite against `kg serve`, a real server process on 127.0.0.1.

The 34 tests of ../shared/conformance/w3c-sparql11/protocol/manifest.ttl run in manifest order
against one server for the module (kg on its embedded store, kg on an Oxigraph server, kg on
Virtuoso). Before each test an authenticated SPARQL Update makes the store
hold exactly the test's graph data; then each request is sent as the manifest gives it (its
headers only: no Accept unless the manifest has one, so the server picks its default format) and
its response is checked: status class, and the format the manifest expects, parsed.

To check this harness against another server, KG_PROTOCOL_TARGET=oxigraph:/path/to/oxigraph runs
`oxigraph serve` (endpoints /query and /update, no authentication) instead of `kg serve`.
"""

import contextlib
import csv
import io
import json
import os
import secrets
import sys
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import rdflib
from conftest import SHARED
from engines import engine, remote_env
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from server_process import ServerProcess
from w3c_protocol import (
    MANIFEST,
    GraphData,
    ProtocolRequest,
    ProtocolTest,
    graph_triples,
    load_manifest,
)

from kg.remote.version import version_graph
from kg.settings import Settings

pytestmark = pytest.mark.shared

EXPECTED_TESTS = 34
SRX = "{http://www.w3.org/2005/sparql-results#}"
RESULTS_JSON = "application/sparql-results+json"
RESULTS_XML = "application/sparql-results+xml"
# RDF syntaxes rdflib parses, by media type. A CONSTRUCT or DESCRIBE result is one graph, so in
# a dataset syntax (N-Quads, TriG) it must all be in the default graph. The manifest also allows
# RDFa, which rdflib no longer reads: a server answering RDFa fails with a message saying so.
RDF_SYNTAXES = {
    "text/turtle": "turtle",
    "application/x-turtle": "turtle",
    "application/n-triples": "nt",
    "application/rdf+xml": "xml",
    "text/n3": "n3",
    "application/ld+json": "json-ld",
    "application/n-quads": "nquads",
    "application/trig": "trig",
}
RDFA = {"text/html", "application/xhtml+xml"}

CASES: list[ProtocolTest] = load_manifest(SHARED / MANIFEST) if SHARED.is_dir() else []


@dataclass(frozen=True)
class Target:
    """A server to test: how to start it, and where its endpoints are."""

    name: str
    command: Callable[[str, str], list[str]]  # (store, update token) -> argv
    ready_path: str
    query_path: str
    update_path: str
    on_engine: str | None = None  # kg's store is this engine (tests/engines.py), started here

    def endpoint(self, request: ProtocolRequest) -> str:
        # The protocol binds updates to POST only: a GET is a query operation, whatever it holds
        # (oxigraph answers GET /update with its service description).
        if request.is_update and request.method == "POST":
            return self.update_path
        return self.query_path


def targets() -> list[Target]:
    """kg on its embedded store, on an Oxigraph server and on Virtuoso, or the server
    KG_PROTOCOL_TARGET names."""
    chosen = os.environ.get("KG_PROTOCOL_TARGET")
    if chosen is None:
        return [target("kg"), target("kg-on-oxigraph"), target("kg-on-virtuoso")]
    return [target(chosen)]


def target(chosen: str) -> Target:
    if chosen in ("kg", "kg-on-oxigraph", "kg-on-virtuoso"):
        on_engine = chosen.removeprefix("kg-on-") if chosen != "kg" else None
        return Target(
            name="kg serve" + (f" on {on_engine}" if on_engine else ""),
            command=lambda store, token: [
                sys.executable,
                "-m",
                "kg",
                "--store",
                str(store),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                "{port}",
                "--update-token",
                token,
            ],
            ready_path="/health",
            query_path="/sparql",
            update_path="/sparql",
            on_engine=on_engine,
        )
    if chosen.startswith("oxigraph:"):
        binary = chosen.removeprefix("oxigraph:")
        return Target(
            name="oxigraph serve",
            command=lambda store, token: [
                binary,
                "serve",
                "--location",
                str(store),
                "--bind",
                "127.0.0.1:{port}",
            ],
            ready_path="/query?query=ASK%7B%7D",
            query_path="/query",
            update_path="/update",
        )
    raise pytest.UsageError(
        f"KG_PROTOCOL_TARGET={chosen!r}: expected kg, kg-on-oxigraph, kg-on-virtuoso "
        "or oxigraph:/path"
    )


@dataclass
class Server:
    target: Target
    process: ServerProcess
    client: httpx.Client
    token: str

    def send(self, request: ProtocolRequest) -> httpx.Response:
        """The request as the manifest gives it, plus the bearer token when it is an update."""
        headers = dict(request.headers)
        if request.is_update:
            headers["Authorization"] = f"Bearer {self.token}"
        url = self.process.url + request.path_for(self.target.endpoint(request))
        try:
            return self.client.request(
                request.method, url, headers=headers, content=request.body_bytes()
            )
        except httpx.TransportError as error:
            pytest.fail(
                f"{request.method} {url}: no answer from {self.target.name} ({error!r})\n"
                f"server stderr (end):\n{self.process.stderr()[-3000:]}"
            )

    def update(self, sparql: str) -> None:
        """An authenticated SPARQL Update for the harness; it must succeed."""
        response = self.client.post(
            self.process.url + self.target.update_path,
            content=sparql.encode(),
            headers={
                "Content-Type": "application/sparql-update",
                "Authorization": f"Bearer {self.token}",
            },
        )
        assert response.is_success, f"setup update failed:\n{sparql}\n{_describe(response)}"

    def named_graph_quads(self) -> set[tuple[str, ...]]:
        """Every quad of the named graphs, read back with a query (N-Triples terms)."""
        response = self.client.post(
            self.process.url + self.target.query_path,
            content=b"SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }",
            headers={"Content-Type": "application/sparql-query", "Accept": RESULTS_JSON},
        )
        assert response.is_success, f"setup check query failed:\n{_describe(response)}"
        quads = {
            tuple(_json_term(row[name]) for name in ("g", "s", "p", "o"))
            for row in response.json()["results"]["bindings"]
        }
        # On an engine, kg keeps the data version in a graph of its own (kg.remote.version).
        kept = f"<{version_graph(Settings().base_iri).value}>"
        return {quad for quad in quads if not (self.target.on_engine and quad[0] == kept)}


@pytest.fixture(scope="module", params=targets(), ids=lambda target: target.name)
def server(shared: Path, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest):
    chosen: Target = request.param
    folder = tmp_path_factory.mktemp("protocol")
    token = secrets.token_urlsafe(24)
    with contextlib.ExitStack() as stack:
        env = None
        if chosen.on_engine:
            running = stack.enter_context(engine(chosen.on_engine, folder))
            store, env = running.store_url, remote_env(running, folder)
        else:
            (folder / "store").mkdir()
            store = str(folder / "store")
        command = chosen.command(store, token)
        process = stack.enter_context(ServerProcess(command, env=env, ready_path=chosen.ready_path))
        yield from _serving(chosen, process, token)


def _serving(chosen: Target, process: ServerProcess, token: str):
    with httpx.Client(timeout=30, follow_redirects=True, trust_env=False) as client:
        # The manifest's headers only: httpx's default "Accept: */*" would hide whether the
        # server picks a sensible default format by itself.
        del client.headers["Accept"]
        yield Server(chosen, process, client, token)


def test_manifest_lists_all_protocol_tests(shared: Path):
    assert len(CASES) == EXPECTED_TESTS
    assert len({case.id for case in CASES}) == EXPECTED_TESTS


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_protocol(case: ProtocolTest, server: Server):
    load_graph_data(server, case.graph_data)
    for number, request in enumerate(case.requests, start=1):
        response = server.send(request)
        token = " (with the update token)" if request.is_update else ""
        where = (
            f"{case.id} request {number}/{len(case.requests)}: {case.name}\n"
            f"sent: {request.method} {response.request.url.raw_path.decode()}"
            f" {dict(request.headers)}{token}"
        )
        check_response(request, response, where)


def load_graph_data(server: Server, graph_data: tuple[GraphData, ...]) -> None:
    """Make the store hold exactly these graphs: DROP ALL, then INSERT DATA, then read them back."""
    expected: set[tuple[str, ...]] = set()
    blocks = []
    for data in graph_data:
        triples = graph_triples(data)
        graph = rdflib.URIRef(data.graph).n3()
        lines = "\n".join(" ".join(term.n3() for term in triple) + " ." for triple in triples)
        blocks.append(f"GRAPH {graph} {{\n{lines}\n}}")
        expected |= {(graph, *(term.n3() for term in triple)) for triple in triples}
    sparql = "DROP ALL"
    if blocks:
        sparql += " ;\nINSERT DATA {\n" + "\n".join(blocks) + "\n}"
    server.update(sparql)
    # The default graph is not checked: kg's default graph is the union of its named graphs.
    assert server.named_graph_quads() == expected, "the store does not hold the test's graph data"


def check_response(request: ProtocolRequest, response: httpx.Response, where: str) -> None:
    first = response.history[0] if response.history else response
    status_class = first.status_code // 100
    expected = " or ".join(f"{code}xx" for code in sorted(request.expected_status))
    assert status_class in request.expected_status, (
        f"{where}\nexpected status {expected}, got:\n{_describe(response)}"
    )
    if 4 in request.expected_status:
        # The update token is sent with every update, so a protocol error must not be an
        # authentication failure: that would hide whether the server checks the protocol.
        assert first.status_code not in (401, 403), (
            f"{where}\nexpected a protocol error, got an authentication failure:\n"
            f"{_describe(response)}"
        )
    fmt = request.expected_format
    if fmt == "boolean" or request.expected_boolean is not None:
        answer = parse_boolean(response, where)
        if request.expected_boolean is not None:
            assert answer is request.expected_boolean, (
                f"{where}\nexpected boolean {request.expected_boolean}, got {answer}:\n"
                f"{_describe(response)}"
            )
    elif fmt == "tabular":
        parse_table(response, where)
    elif fmt == "RDF":
        parse_rdf(response, where)


def parse_boolean(response: httpx.Response, where: str) -> bool:
    media_type = _media_type(response)
    if media_type == RESULTS_JSON:
        document = _json(response, where)
        answer = document.get("boolean") if isinstance(document, dict) else None
        assert isinstance(answer, bool), f"{where}\nno JSON boolean result:\n{_describe(response)}"
        return answer
    if media_type == RESULTS_XML:
        root = _xml(response, where)
        element = root.find(f"{SRX}boolean")
        assert element is not None and (element.text or "").strip() in ("true", "false"), (
            f"{where}\nno XML boolean result:\n{_describe(response)}"
        )
        return element.text.strip() == "true"
    pytest.fail(f"{where}\nexpected SPARQL results JSON or XML, got:\n{_describe(response)}")


def parse_table(response: httpx.Response, where: str) -> list[list[str]]:
    """The result table: its header (variable names) then its rows."""
    media_type = _media_type(response)
    if media_type == RESULTS_JSON:
        document = _json(response, where)
        variables = document.get("head", {}).get("vars") if isinstance(document, dict) else None
        rows = document.get("results", {}).get("bindings") if isinstance(document, dict) else None
        assert isinstance(variables, list) and isinstance(rows, list), (
            f"{where}\nnot a JSON result table:\n{_describe(response)}"
        )
        return [variables] + [[row.get(v, {}).get("value", "") for v in variables] for row in rows]
    if media_type == RESULTS_XML:
        root = _xml(response, where)
        head, results = root.find(f"{SRX}head"), root.find(f"{SRX}results")
        assert head is not None and results is not None, (
            f"{where}\nnot an XML result table:\n{_describe(response)}"
        )
        variables = [v.get("name", "") for v in head.findall(f"{SRX}variable")]
        return [variables] + [[] for _ in results.findall(f"{SRX}result")]
    if media_type in ("text/csv", "text/tab-separated-values"):
        delimiter = "," if media_type == "text/csv" else "\t"
        rows = list(csv.reader(io.StringIO(_text(response, where)), delimiter=delimiter))
        assert rows, f"{where}\na result table without a header:\n{_describe(response)}"
        if delimiter == "\t":
            assert all(name.startswith("?") for name in rows[0]), (
                f"{where}\nTSV results name variables with '?':\n{_describe(response)}"
            )
        return rows
    pytest.fail(
        f"{where}\nexpected SPARQL results JSON, XML, CSV or TSV, got:\n{_describe(response)}"
    )


def parse_rdf(response: httpx.Response, where: str) -> rdflib.Graph:
    media_type = _media_type(response)
    if media_type in RDFA:
        pytest.fail(
            f"{where}\nRDFa is allowed but this harness cannot parse it:\n{_describe(response)}"
        )
    syntax = RDF_SYNTAXES.get(media_type or "")
    if syntax is None:
        pytest.fail(f"{where}\nexpected an RDF syntax, got:\n{_describe(response)}")
    dataset = rdflib.Dataset()
    try:
        with warnings.catch_warnings():  # rdflib's own parsers use its deprecated default_context
            warnings.simplefilter("ignore", DeprecationWarning)
            dataset.parse(data=_text(response, where), format=syntax, publicID=str(response.url))
    except Exception as error:  # rdflib's parsers raise many kinds; any is a failed parse here
        pytest.fail(
            f"{where}\nthe {media_type} body does not parse: {error}\n{_describe(response)}"
        )
    named = [g.identifier for g in dataset.graphs() if g.identifier != DATASET_DEFAULT_GRAPH_ID]
    named = [name for name in named if len(dataset.graph(name))]
    assert not named, f"{where}\na graph result with named graphs {named}:\n{_describe(response)}"
    return dataset.default_graph


def _media_type(response: httpx.Response) -> str | None:
    value = response.headers.get("content-type")
    return value.split(";")[0].strip().lower() if value else None


def _text(response: httpx.Response, where: str) -> str:
    try:
        return response.content.decode(response.charset_encoding or "utf-8")
    except (UnicodeDecodeError, LookupError) as error:
        pytest.fail(f"{where}\nthe body does not decode: {error}\n{_describe(response)}")


def _json(response: httpx.Response, where: str):
    try:
        return json.loads(_text(response, where))
    except json.JSONDecodeError as error:
        pytest.fail(f"{where}\nthe body is not JSON: {error}\n{_describe(response)}")


def _xml(response: httpx.Response, where: str) -> ET.Element:
    try:
        root = ET.fromstring(response.content)
    except ET.ParseError as error:
        pytest.fail(f"{where}\nthe body is not XML: {error}\n{_describe(response)}")
    assert root.tag == f"{SRX}sparql", f"{where}\nnot SPARQL results XML:\n{_describe(response)}"
    return root


def _json_term(term: dict) -> str:
    """A SPARQL JSON results term as N-Triples (IRIs and plain or typed literals suffice here)."""
    if term["type"] == "uri":
        return rdflib.URIRef(term["value"]).n3()
    if term["type"] == "bnode":
        return "_:" + term["value"]
    return rdflib.Literal(
        term["value"], lang=term.get("xml:lang"), datatype=term.get("datatype")
    ).n3()


def _describe(response: httpx.Response) -> str:
    redirects = "".join(f"  (redirected from {r.status_code} {r.url})\n" for r in response.history)
    body = response.text
    if len(body) > 800:
        body = body[:800] + f"... ({len(response.content)} bytes)"
    return (
        f"{redirects}  status {response.status_code}, "
        f"content-type {response.headers.get('content-type')!r}\n  body: {body!r}"
    )
