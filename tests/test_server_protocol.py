"""The endpoint against a real `kg serve` on 127.0.0.1: formats, negotiation, the graph store,
dumps, descriptions and real SPARQL clients. Every answer is parsed and compared with the same
query run on the store directly."""

import json
from datetime import datetime

import pytest
from pyoxigraph import QueryResultsFormat, parse_query_results
from rdflib import DCTERMS, RDF, Dataset, Graph, Namespace, URIRef
from rdflib.compare import isomorphic
from served import client, kg_server

from kg.store import OxigraphStore
from kg.vocab import PREFIXES

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
VOID = Namespace("http://rdfs.org/ns/void#")

SELECT = """SELECT ?m ?label ?year WHERE {
  ?m a kg:Mitigation ; kg:sourceDocument ?d . ?d dcterms:title ?label
  OPTIONAL { ?d dcterms:date ?year }
} ORDER BY ?m ?label"""
CONSTRUCT = "CONSTRUCT { ?m a kg:Mitigation ; skos:prefLabel ?l } WHERE { ?m a kg:Mitigation OPTIONAL { ?m skos:prefLabel ?l } }"


@pytest.fixture(scope="module")
def server(sample_store):
    with kg_server(sample_store) as running:
        yield running


@pytest.fixture(scope="module")
def http(server):
    with client(server) as http_client:
        yield http_client


@pytest.fixture(scope="module")
def direct(sample_store):
    return OxigraphStore(sample_store)


def rows(solutions) -> list[tuple]:
    return [tuple(str(term) if term is not None else None for term in row) for row in solutions]


RESULT_TYPES = {
    "application/sparql-results+json": QueryResultsFormat.JSON,
    "application/sparql-results+xml": QueryResultsFormat.XML,
    "text/tab-separated-values": QueryResultsFormat.TSV,
}


@pytest.mark.parametrize("media_type", list(RESULT_TYPES))
def test_select_in_each_results_format_equals_the_store(http, direct, media_type):
    response = http.get("/sparql", params={"query": SELECT}, headers={"Accept": media_type})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type
    answer = parse_query_results(response.content, RESULT_TYPES[media_type])
    expected = rows(direct.query(SELECT))
    assert len(expected) > 1 and rows(answer) == expected


def test_select_as_csv_has_the_values(http, direct):
    response = http.post("/sparql", data={"query": SELECT, "format": "text/csv"})
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    lines = response.text.splitlines()
    assert lines[0].split(",") == ["m", "label", "year"]
    expected = [row["m"].value for row in direct.query(SELECT)]
    assert [line.split(",")[0] for line in lines[1:]] == expected


@pytest.mark.parametrize(
    ("media_type", "rdflib_format"),
    [
        ("text/turtle", "turtle"),
        ("application/n-triples", "nt"),
        ("application/n-quads", "nquads"),
        ("application/trig", "trig"),
        ("application/ld+json", "json-ld"),
        ("application/rdf+xml", "xml"),
    ],
)
def test_construct_in_each_rdf_format_equals_the_store(http, direct, media_type, rdflib_format):
    response = http.post(
        "/sparql",
        content=CONSTRUCT,
        headers={"Content-Type": "application/sparql-query", "Accept": media_type},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == media_type
    if rdflib_format in ("nquads", "trig"):
        got = Dataset()
        got.parse(data=response.content, format=rdflib_format)
        graph = Graph()
        for s, p, o, _ in got.quads():
            graph.add((s, p, o))
    else:
        graph = Graph().parse(data=response.content, format=rdflib_format)
    expected = Graph().parse(data=direct_ntriples(direct, CONSTRUCT), format="nt")
    assert len(expected) > 2 and isomorphic(graph, expected)


def direct_ntriples(direct, query) -> str:
    from pyoxigraph import RdfFormat, serialize

    return serialize(direct.query(query), format=RdfFormat.N_TRIPLES).decode()


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("text/csv;q=0.5, application/sparql-results+xml;q=0.9", "application/sparql-results+xml"),
        ("application/sparql-results+xml;q=0.1, text/csv", "text/csv"),
        ("text/*", "text/csv"),
        ("application/json", "application/sparql-results+json"),
        (None, "application/sparql-results+json"),
        ("*/*", "application/sparql-results+json"),
    ],
)
def test_negotiation_honours_quality_values(http, accept, expected):
    headers = {"Accept": accept} if accept else {}
    response = http.get("/sparql", params={"query": "SELECT (1 AS ?x) {}"}, headers=headers)
    assert response.headers["content-type"].split(";")[0] == expected


def test_format_parameter_overrides_accept(http):
    response = http.get(
        "/sparql",
        params={"query": "ASK {}", "format": "xml"},
        headers={"Accept": "application/sparql-results+json"},
    )
    assert response.headers["content-type"] == "application/sparql-results+xml"


@pytest.mark.parametrize(
    ("params", "accept"),
    [
        ({"query": "SELECT * {}"}, "image/png"),
        ({"query": "SELECT * {}", "format": "turtle"}, None),
        ({"query": "CONSTRUCT WHERE {}"}, "application/sparql-results+json"),
    ],
)
def test_unsupported_type_gets_406(http, params, accept):
    response = http.get("/sparql", params=params, headers={"Accept": accept} if accept else {})
    assert response.status_code == 406
    assert "available" in response.text or "use one of" in response.text


def test_ask_in_json_and_xml(http):
    response = http.get("/sparql", params={"query": "ASK { ?m a kg:Mitigation }"})
    assert response.json() == {"head": {}, "boolean": True}
    xml = http.get("/sparql", params={"query": "ASK { ?m a kg:Nothing }", "format": "xml"})
    assert parse_query_results(xml.content, QueryResultsFormat.XML).__bool__() is False


def test_protocol_dataset_replaces_the_default_graph(http, direct):
    graph = next(g.value for g in direct.named_graphs() if "graph/file/000_" in g.value)
    query = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"
    response = http.get("/sparql", params={"query": query, "default-graph-uri": graph})
    count = int(response.json()["results"]["bindings"][0]["n"]["value"])
    in_graph = f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    assert count == int(next(direct.query(in_graph))["n"].value) > 0
    named = http.get(
        "/sparql",
        params={"query": "SELECT DISTINCT ?g { GRAPH ?g {} }", "named-graph-uri": graph},
    )
    assert [b["g"]["value"] for b in named.json()["results"]["bindings"]] == [graph]


def test_service_description(http, server):
    response = http.get("/sparql", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    graph = Graph().parse(data=response.text, format="turtle")
    endpoint = URIRef(f"{server.url}/sparql")
    assert (endpoint, SD.endpoint, endpoint) in graph
    assert (endpoint, SD.supportedLanguage, SD.SPARQL11Query) in graph
    assert (endpoint, SD.supportedLanguage, SD.SPARQL11Update) not in graph  # no token given
    assert len(set(graph.objects(endpoint, SD.resultFormat))) == 10


def test_void_counts_the_default_graph(http, direct):
    response = http.get("/.well-known/void", headers={"Accept": "application/ld+json"})
    graph = Graph().parse(data=response.text, format="json-ld")
    dataset = URIRef(f"{PREFIXES['kg'].split('ontology')[0]}dataset")
    triples = next(direct.query("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"))["n"].value
    assert graph.value(dataset, VOID.triples).toPython() == int(triples)
    assert graph.value(dataset, VOID.sparqlEndpoint) is not None
    mitigations = next(
        p
        for p in graph.objects(dataset, VOID.classPartition)
        if graph.value(p, VOID["class"]) == URIRef(PREFIXES["kg"] + "Mitigation")
    )
    assert graph.value(mitigations, VOID.entities).toPython() > 1


def test_void_is_also_a_dcat_dataset_with_its_dumps_and_rights(http, direct):
    dcat = Namespace("http://www.w3.org/ns/dcat#")
    response = http.get("/.well-known/void", headers={"Accept": "text/turtle"})
    graph = Graph().parse(data=response.text, format="turtle")
    dataset = URIRef(f"{PREFIXES['kg'].split('ontology')[0]}dataset")
    assert (dataset, RDF.type, dcat.Dataset) in graph
    downloads = {
        str(graph.value(d, dcat.downloadURL)): str(graph.value(d, dcat.mediaType))
        for d in graph.objects(dataset, dcat.distribution)
    }
    dumps = {str(d) for d in graph.objects(dataset, VOID.dataDump)}
    assert set(downloads) == dumps and len(dumps) == 5
    (turtle,) = [url for url in downloads if url.endswith("/dump.ttl")]
    assert downloads[turtle] == "https://www.iana.org/assignments/media-types/text/turtle"
    # The sample pages state no licence: the dataset claims none, and says where to look.
    assert graph.value(dataset, DCTERMS.license) is None
    assert "Not every source states a licence" in str(graph.value(dataset, DCTERMS.rights))
    loaded = {
        q["t"].value
        for q in direct.query(
            "SELECT ?t { GRAPH ?g { ?g kg:sourceFile ?f ; prov:generatedAtTime ?t } "
            "FILTER(CONTAINS(STR(?g), '/graph/file/')) }"
        )
    }
    latest = max(datetime.fromisoformat(t) for t in loaded)
    assert graph.value(dataset, DCTERMS.modified).toPython() == latest
    assert graph.value(dataset, DCTERMS.conformsTo) == URIRef(PREFIXES["kg"].rstrip("#"))


def test_graph_store_reads_a_named_graph_the_default_graph_and_the_dataset(http, direct):
    graph = next(g.value for g in direct.named_graphs() if "graph/file/000_" in g.value)
    response = http.get(
        "/store", params={"graph": graph}, headers={"Accept": "application/n-triples"}
    )
    assert response.status_code == 200
    got = Graph().parse(data=response.text, format="nt")
    expected = direct_ntriples(
        direct, f"CONSTRUCT {{ ?s ?p ?o }} {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    )
    assert isomorphic(got, Graph().parse(data=expected, format="nt"))
    default = Graph().parse(data=http.get("/store?default").text, format="turtle")
    everything = direct_ntriples(direct, "CONSTRUCT WHERE { ?s ?p ?o }")
    assert isomorphic(default, Graph().parse(data=everything, format="nt"))
    dataset = Dataset()
    dataset.parse(data=http.get("/store").content, format="nquads")
    assert {str(g.identifier) for g in dataset.graphs() if len(g)} == {
        g.value for g in direct.named_graphs()
    }
    assert http.get("/store", params={"graph": "http://example.org/none"}).status_code == 404


def test_dumps_hold_every_named_graph(http, direct):
    response = http.get("/dump.nq")
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    dataset = Dataset()
    dataset.parse(data=response.content, format="nquads")
    named = sum(1 for q in direct.reader().quads_for_pattern(None, None, None, None)) - int(
        next(direct.query("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"))["n"].value
    )
    assert len(list(dataset.quads())) == named
    turtle = Graph().parse(data=http.get("/dump.ttl").text, format="turtle")
    assert len(turtle) == int(next(direct.query("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"))["n"].value)
    assert http.get("/dump.xlsx").status_code == 404


def test_sparqlwrapper_gets_the_store_results(server, direct):
    from SPARQLWrapper import JSON, SPARQLWrapper

    client = SPARQLWrapper(f"{server.url}/sparql")
    client.setQuery(SELECT)
    client.setReturnFormat(JSON)
    bindings = client.query().convert()["results"]["bindings"]
    assert [b["m"]["value"] for b in bindings] == [r["m"].value for r in direct.query(SELECT)]


def test_rdflib_sparqlstore_gets_the_store_results(server, direct):
    from rdflib.plugins.stores.sparqlstore import SPARQLStore

    graph = Graph(store=SPARQLStore(f"{server.url}/sparql", returnFormat="json"))
    query = "SELECT ?m WHERE {{ ?m a <{}Mitigation> }} ORDER BY ?m".format(PREFIXES["kg"])
    got = [str(row[0]) for row in graph.query(query)]
    assert got == [r["m"].value for r in direct.query(query)] and got


def test_health_and_cors(http):
    health = http.get("/health")
    assert health.json()["status"] == "ok" and health.json()["updates"] is False
    preflight = http.options(
        "/sparql",
        headers={"Origin": "https://example.org", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    response = http.get("/sparql", params={"query": "ASK {}"}, headers={"Origin": "https://x.org"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "ETag" in response.headers["access-control-expose-headers"]


def test_access_log_is_one_json_object_per_request(http, server):
    http.get("/sparql", params={"query": "ASK { ?s ?p ?o }"})
    entries = [json.loads(line) for line in server.stderr().splitlines() if line.startswith("{")]
    asks = [e for e in entries if e["path"] == "/sparql" and e["method"] == "GET"]
    assert asks and {"status", "ms", "bytes", "client", "time"} <= set(asks[-1])
    assert asks[-1]["client"] == "127.0.0.1"
