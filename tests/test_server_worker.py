"""What the query worker does, run in-process on a real store: serialization, the row cap,
exports and statistics (the server tests run the same code in worker processes)."""

import pytest
from pyoxigraph import QueryResultsFormat, RdfFormat, parse, parse_query_results
from rdflib import Graph

from kg.errors import QueryError
from kg.server.answers import Caps
from kg.server.worker import (
    ExportTask,
    GraphNotFound,
    QueryTask,
    Scope,
    dataset_statistics,
    run_export,
    run_query,
)
from kg.store import OxigraphStore
from kg.vocab import PREFIXES


@pytest.fixture(scope="module")
def generation(sample_store):
    return str(OxigraphStore(sample_store).live_directory)


def task(
    generation, query, accept=None, format_name=None, max_rows=1000, spool="/nonexistent/answer",
    max_bytes=64 * 1024 * 1024, inline_bytes=8 * 1024 * 1024, **dataset
):
    return QueryTask(
        generation=generation,
        query=query,
        default_graphs=tuple(dataset.get("default", ())),
        named_graphs=tuple(dataset.get("named", ())),
        accept=accept,
        format_name=format_name,
        caps=Caps(max_rows, max_bytes, inline_bytes, spool),
        base_iri="https://w3id.org/airm-kg/",
        allowed_services=(),
    )


@pytest.mark.parametrize("name", ["json", "xml", "csv", "tsv"])
def test_select_rows_survive_every_format(generation, name):
    query = 'SELECT ?x ?l { VALUES (?x ?l) { (1 "a\\nb"@en) (<urn:x> "tab\\there") (2 UNDEF) } }'
    answer = run_query(task(generation, query, format_name=name))
    assert not answer.truncated
    if name == "csv":
        assert answer.body.decode().splitlines()[0] == "x,l"
        return
    parsed = parse_query_results(answer.body, QueryResultsFormat.from_extension(name))
    assert [[str(t) if t is not None else None for t in row] for row in parsed] == [
        ['"1"^^<http://www.w3.org/2001/XMLSchema#integer>', '"a\\nb"@en'],
        ["<urn:x>", '"tab\\there"'],
        ['"2"^^<http://www.w3.org/2001/XMLSchema#integer>', None],
    ]


def test_row_cap_keeps_the_first_rows(generation):
    query = "SELECT ?n { VALUES ?n { 1 2 3 4 5 6 7 } }"
    answer = run_query(task(generation, query, max_rows=4, format_name="json"))
    rows = parse_query_results(answer.body, QueryResultsFormat.JSON)
    assert [int(r["n"].value) for r in rows] == [1, 2, 3, 4] and answer.truncated
    exact = run_query(task(generation, query, max_rows=7))
    assert not exact.truncated


def test_triple_cap_and_rdf_formats(generation):
    query = "CONSTRUCT { ?m a kg:Mitigation } WHERE { ?m a kg:Mitigation }"
    everything = run_query(task(generation, query, format_name="ntriples"))
    total = len(everything.body.splitlines())
    assert total > 3 and not everything.truncated
    capped = run_query(task(generation, query, max_rows=3, accept="text/turtle"))
    assert capped.truncated and len(Graph().parse(data=capped.body, format="turtle")) == 3
    assert capped.body.startswith(b"@prefix")


def test_dataset_of_the_request_replaces_the_default_graph(generation):
    graph = f"{PREFIXES['kg'].split('ontology')[0]}graph/vocabulary/actors"
    count = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"
    answer = run_query(task(generation, count, format_name="json", default=[graph]))
    in_graph = int(parse_query_results(answer.body, QueryResultsFormat.JSON).__next__()["n"].value)
    everything = run_query(task(generation, count, format_name="json"))
    total = int(parse_query_results(everything.body, QueryResultsFormat.JSON).__next__()["n"].value)
    assert 0 < in_graph < total


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("SELECT ?x WHERE { ?x", "invalid SPARQL query"),
        ("SELECT * WHERE { ?s ?p ?o }", None),
    ],
)
def test_errors_are_query_errors(generation, query, message):
    if message is None:
        with pytest.raises(QueryError, match="invalid graph IRI"):
            run_query(task(generation, query, default=["not an iri"]))
        return
    with pytest.raises(QueryError, match=message):
        run_query(task(generation, query))


def test_query_on_an_empty_store():
    answer = run_query(task(None, "ASK { ?s ?p ?o }", format_name="json"))
    assert answer.body == b'{"head":{},"boolean":false}'


def test_exports(generation, tmp_path):
    graph = f"{PREFIXES['kg'].split('ontology')[0]}graph/vocabulary/actors"
    target = tmp_path / "actors.nt"
    run_export(ExportTask(generation, Scope(graph), "ntriples", str(target)))
    assert len(list(parse(target.read_bytes(), RdfFormat.N_TRIPLES))) > 5
    default = tmp_path / "default.nq"
    run_export(ExportTask(generation, Scope(default=True), "nquads", str(default)))
    quads = list(parse(default.read_bytes(), RdfFormat.N_QUADS))
    assert quads and all(str(q.graph_name) == "DEFAULT" for q in quads)
    with pytest.raises(GraphNotFound):
        run_export(ExportTask(generation, Scope("urn:none"), "turtle", str(tmp_path / "x")))
    with pytest.raises(QueryError, match="invalid graph IRI"):
        run_export(ExportTask(generation, Scope("default"), "turtle", str(tmp_path / "x")))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["actors.nt", "default.nq"]


def test_statistics(generation):
    numbers = dataset_statistics(generation)
    assert numbers["graphs"] == 7 and numbers["triples"] > 900
    assert numbers["classes"][PREFIXES["kg"] + "Mitigation"] > 1
