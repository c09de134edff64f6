"""What the SPARQL tasks do, run in-process on a real store: serialization, the row cap, exports
and statistics (the server tests run the same tasks in worker processes)."""

import pytest
from pyoxigraph import QueryResultsFormat, RdfFormat, parse, parse_query_results
from rdflib import Graph

from kg.errors import QueryError
from kg.server.answers import Caps
from kg.server.sparql_tasks import ExportTask, GraphNotFound, QueryTask, Scope, StatisticsTask
from kg.store import EMPTY, OxigraphStore
from kg.vocab import PREFIXES


@pytest.fixture(scope="module")
def snapshot(sample_store):
    return OxigraphStore(sample_store).snapshot()


def task(
    snapshot, query, accept=None, format_name=None, max_rows=1000, spool="/nonexistent/answer",
    max_bytes=64 * 1024 * 1024, inline_bytes=8 * 1024 * 1024, **dataset
):
    return QueryTask(
        snapshot=snapshot,
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
def test_select_rows_survive_every_format(snapshot, name):
    query = 'SELECT ?x ?l { VALUES (?x ?l) { (1 "a\\nb"@en) (<urn:x> "tab\\there") (2 UNDEF) } }'
    answer = task(snapshot, query, format_name=name).run()
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


def test_row_cap_keeps_the_first_rows(snapshot):
    query = "SELECT ?n { VALUES ?n { 1 2 3 4 5 6 7 } }"
    answer = task(snapshot, query, max_rows=4, format_name="json").run()
    rows = parse_query_results(answer.body, QueryResultsFormat.JSON)
    assert [int(r["n"].value) for r in rows] == [1, 2, 3, 4] and answer.truncated
    exact = task(snapshot, query, max_rows=7).run()
    assert not exact.truncated


def test_triple_cap_and_rdf_formats(snapshot):
    query = "CONSTRUCT { ?m a kg:Mitigation } WHERE { ?m a kg:Mitigation }"
    everything = task(snapshot, query, format_name="ntriples").run()
    total = len(everything.body.splitlines())
    assert total > 3 and not everything.truncated
    capped = task(snapshot, query, max_rows=3, accept="text/turtle").run()
    assert capped.truncated and len(Graph().parse(data=capped.body, format="turtle")) == 3
    assert capped.body.startswith(b"@prefix")


def test_dataset_of_the_request_replaces_the_default_graph(snapshot):
    graph = f"{PREFIXES['kg'].split('ontology')[0]}graph/vocabulary/actors"
    count = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"
    answer = task(snapshot, count, format_name="json", default=[graph]).run()
    in_graph = int(parse_query_results(answer.body, QueryResultsFormat.JSON).__next__()["n"].value)
    everything = task(snapshot, count, format_name="json").run()
    total = int(parse_query_results(everything.body, QueryResultsFormat.JSON).__next__()["n"].value)
    assert 0 < in_graph < total


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("SELECT ?x WHERE { ?x", "invalid SPARQL query"),
        ("SELECT * WHERE { ?s ?p ?o }", None),
    ],
)
def test_errors_are_query_errors(snapshot, query, message):
    if message is None:
        with pytest.raises(QueryError, match="invalid graph IRI"):
            task(snapshot, query, default=["not an iri"]).run()
        return
    with pytest.raises(QueryError, match=message):
        task(snapshot, query).run()


def test_query_on_an_empty_store():
    answer = task(EMPTY, "ASK { ?s ?p ?o }", format_name="json").run()
    assert answer.body == b'{"head":{},"boolean":false}'


def test_exports(snapshot, tmp_path):
    graph = f"{PREFIXES['kg'].split('ontology')[0]}graph/vocabulary/actors"
    target = tmp_path / "actors.nt"
    ExportTask(snapshot, Scope(graph), "ntriples", str(target)).run()
    assert len(list(parse(target.read_bytes(), RdfFormat.N_TRIPLES))) > 5
    default = tmp_path / "default.nq"
    ExportTask(snapshot, Scope(default=True), "nquads", str(default)).run()
    quads = list(parse(default.read_bytes(), RdfFormat.N_QUADS))
    assert quads and all(str(q.graph_name) == "DEFAULT" for q in quads)
    with pytest.raises(GraphNotFound):
        ExportTask(snapshot, Scope("urn:none"), "turtle", str(tmp_path / "x")).run()
    with pytest.raises(QueryError, match="invalid graph IRI"):
        ExportTask(snapshot, Scope("default"), "turtle", str(tmp_path / "x")).run()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["actors.nt", "default.nq"]


def test_statistics(snapshot):
    numbers = StatisticsTask(snapshot).run()
    assert numbers["graphs"] == 9 and numbers["triples"] > 900  # 2 pages, 7 vocabulary files
    assert numbers["classes"][PREFIXES["kg"] + "Mitigation"] > 1
