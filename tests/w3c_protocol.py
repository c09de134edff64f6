"""The W3C SPARQL 1.1 Protocol test manifest, read with rdflib into plain dataclasses.

Each `mf:ProtocolTest` of `mf:entries` becomes a `ProtocolTest`: the graphs the store must hold
first (`ut:graphData`) and its HTTP requests in order, each with the response it expects. The
reader is strict: a term it does not know is an error naming the test, never a silent skip.
"""

import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import rdflib
from rdflib import RDF, RDFS, Namespace
from rdflib.collection import Collection

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
HT = Namespace("http://www.w3.org/2011/http#")
HTS = Namespace("http://www.w3.org/2011/http-statusCodes#")
CNT = Namespace("http://www.w3.org/2011/content#")

MANIFEST = Path("conformance/w3c-sparql11/protocol/manifest.ttl")  # relative to ../shared
PATH_PREFIX = "/sparql/"  # every ht:absolutePath starts with it; the runner replaces it
FORMATS = {"boolean", "tabular", "RDF"}
FORM = "application/x-www-form-urlencoded"
SPARQL_UPDATE = "application/sparql-update"


class ManifestError(ValueError):
    """The manifest says something this reader does not understand."""


@dataclass(frozen=True)
class GraphData:
    """A graph the store must hold before the test: the triples of `file` in graph `<graph>`."""

    file: Path
    graph: str


@dataclass(frozen=True)
class ProtocolRequest:
    method: str
    absolute_path: str  # as in the manifest: "/sparql/" then an optional "?query string"
    headers: tuple[tuple[str, str], ...]
    body: str | None
    body_encoding: str  # cnt:characterEncoding, how the body's text is sent
    expected_status: frozenset[int]  # status classes: {2, 3} for 2xx or 3xx
    expected_boolean: bool | None
    expected_format: str | None  # "boolean", "tabular", "RDF" or None

    @property
    def media_type(self) -> str | None:
        """The content-type the manifest gives, without its parameters, lower-cased."""
        for name, value in self.headers:
            if name.lower() == "content-type":
                return value.split(";")[0].strip().lower()
        return None

    @property
    def query_string(self) -> str:
        return self.absolute_path.partition("?")[2]

    @property
    def is_update(self) -> bool:
        """Whether the request is a SPARQL Update as the request itself says.

        The content-type is application/sparql-update, or a form body (form content-type, or
        none) has an `update` field, or the query string has one.
        """
        if self.media_type == SPARQL_UPDATE:
            return True
        if (
            self.body is not None
            and self.media_type in (FORM, None)
            and _has_field(self.body, "update")
        ):
            return True
        return _has_field(self.query_string, "update")

    def body_bytes(self) -> bytes | None:
        return None if self.body is None else self.body.encode(self.body_encoding)

    def path_for(self, endpoint: str) -> str:
        """The request's path and query with the leading `/sparql/` replaced by `endpoint`."""
        rest = self.absolute_path.removeprefix(PATH_PREFIX)
        if rest and not rest.startswith("?"):
            return endpoint.rstrip("/") + "/" + rest
        return endpoint + rest


@dataclass(frozen=True)
class ProtocolTest:
    iri: str
    id: str  # the IRI's local name, e.g. "query_post_form"
    name: str  # mf:name, a sentence
    graph_data: tuple[GraphData, ...]
    requests: tuple[ProtocolRequest, ...]


def load_manifest(path: Path) -> list[ProtocolTest]:
    """The manifest's tests, in the order of its `mf:entries` list."""
    graph = rdflib.Graph()
    graph.parse(path, format="turtle", publicID=path.resolve().as_uri())
    manifest = graph.value(predicate=RDF.type, object=MF.Manifest, any=False)
    if manifest is None:
        raise ManifestError(f"{path}: no mf:Manifest")
    entries = graph.value(manifest, MF.entries)
    if entries is None:
        raise ManifestError(f"{path}: the manifest has no mf:entries")
    return [_test(graph, entry, path.parent) for entry in Collection(graph, entries)]


def _test(graph: rdflib.Graph, test, folder: Path) -> ProtocolTest:
    iri = str(test)
    where = iri.rpartition("#")[2] or iri
    if (test, RDF.type, MF.ProtocolTest) not in graph:
        raise ManifestError(f"{where}: not an mf:ProtocolTest")
    action = _one(graph, test, MF.action, where)
    requests_list = _one(graph, action, HT.requests, where)
    return ProtocolTest(
        iri=iri,
        id=where,
        name=str(_one(graph, test, MF.name, where)),
        graph_data=tuple(
            sorted(
                (
                    _graph_data(graph, node, folder, where)
                    for node in graph.objects(test, UT.graphData)
                ),
                key=lambda data: data.graph,
            )
        ),
        requests=tuple(_request(graph, node, where) for node in Collection(graph, requests_list)),
    )


def _graph_data(graph: rdflib.Graph, node, folder: Path, where: str) -> GraphData:
    source = _one(graph, node, UT.graph, where)
    file = Path(urllib.parse.unquote(urllib.parse.urlparse(str(source)).path))
    if not file.is_file():
        file = folder / file.name
    if not file.is_file():
        raise ManifestError(f"{where}: graph data {source} is not a file")
    return GraphData(file=file, graph=str(_one(graph, node, RDFS.label, where)))


def _request(graph: rdflib.Graph, node, where: str) -> ProtocolRequest:
    path = str(_one(graph, node, HT.absolutePath, where))
    if not path.startswith(PATH_PREFIX):
        raise ManifestError(f"{where}: ht:absolutePath {path!r} does not start with {PATH_PREFIX}")
    headers = graph.value(node, HT.headers)
    body = graph.value(node, HT.body)
    response = _one(graph, node, HT.resp, where)
    expected_format = graph.value(response, MF.expectedFormat)
    if expected_format is not None and str(expected_format) not in FORMATS:
        raise ManifestError(f"{where}: unknown mf:expectedFormat {expected_format!r}")
    expected_boolean = graph.value(response, MF.expectedBoolean)
    if expected_boolean is not None and not isinstance(expected_boolean.toPython(), bool):
        raise ManifestError(f"{where}: mf:expectedBoolean {expected_boolean!r} is not a boolean")
    statuses = frozenset(
        _status_class(code, where) for code in graph.objects(response, MF.expectedStatus)
    )
    if not statuses:
        raise ManifestError(f"{where}: a response without mf:expectedStatus")
    return ProtocolRequest(
        method=str(_one(graph, node, HT.methodName, where)).upper(),
        absolute_path=path,
        headers=tuple(
            (
                str(_one(graph, header, HT.fieldName, where)),
                str(_one(graph, header, HT.fieldValue, where)),
            )
            for header in (Collection(graph, headers) if headers is not None else ())
        ),
        body=None if body is None else str(_one(graph, body, CNT.chars, where)),
        body_encoding=str(graph.value(body, CNT.characterEncoding) or "UTF-8")
        if body is not None
        else "UTF-8",
        expected_status=statuses,
        expected_boolean=None if expected_boolean is None else expected_boolean.toPython(),
        expected_format=None if expected_format is None else str(expected_format),
    )


def _status_class(code, where: str) -> int:
    match = re.fullmatch(re.escape(str(HTS)) + r"StatusCode([1-5])xx", str(code))
    if match is None:
        raise ManifestError(f"{where}: unknown mf:expectedStatus {code}")
    return int(match[1])


def _one(graph: rdflib.Graph, subject, predicate, where: str):
    values = list(graph.objects(subject, predicate))
    if len(values) != 1:
        name = graph.namespace_manager.normalizeUri(predicate)
        raise ManifestError(f"{where}: expected one {name}, found {len(values)}")
    return values[0]


def _has_field(form: str, field: str) -> bool:
    return any(name == field for name, _ in urllib.parse.parse_qsl(form, keep_blank_values=True))


def graph_triples(data: GraphData) -> list[tuple]:
    """The triples of a graph data file, parsed (N-Triples, or whatever rdflib guesses)."""
    graph = rdflib.Graph()
    fmt = "nt" if data.file.suffix == ".nt" else None
    graph.parse(data.file, format=fmt)
    return sorted(graph)
