"""What one request can cost `kg serve`, against a real server on 127.0.0.1: nesting that would
overflow the engine's stack, a query that crashes its worker, rows and answers too large, and
runaway queries that must not starve light ones."""

import json
import threading
import time

import psutil
import pytest
from pyoxigraph import DefaultGraph, QueryResultsFormat, RdfFormat, parse, parse_query_results
from served import client, copy_store, kg_server

TIMEOUT = 8.0
MAX_ANSWER_BYTES = 20_000_000
RUNAWAY = "SELECT (COUNT(*) AS ?n) {{ ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }} # {n}"


def doubled(times: int, rows: int = 1) -> str:
    """A SELECT of `rows` rows whose value is "ab" doubled `times` times (2^(times+1) bytes)."""
    binds = " ".join(f"BIND(CONCAT(?a{i}, ?a{i}) AS ?a{i + 1})" for i in range(times))
    values = " ".join(str(i) for i in range(rows))
    return f'SELECT ?b {{ VALUES ?r {{ {values} }} BIND("ab" AS ?a0) {binds} BIND(?a{times} AS ?b) }}'


@pytest.fixture(scope="module")
def spool_root(tmp_path_factory):
    return tmp_path_factory.mktemp("tmp")


@pytest.fixture(scope="module")
def server(sample_store, tmp_path_factory, spool_root):
    store = copy_store(sample_store, tmp_path_factory.mktemp("limits") / "store")
    env = {
        "KG_QUERY_WORKERS": "2",
        "KG_MAX_ANSWER_BYTES": str(MAX_ANSWER_BYTES),
        "KG_WORKER_MEMORY": str(3 * 1024**3),
        "TMPDIR": str(spool_root),
    }
    with kg_server(store, "--query-timeout", str(TIMEOUT), env=env) as running:
        yield running


@pytest.fixture(scope="module")
def http(server):
    with client(server) as http_client:
        yield http_client


def post(http, query, **params):
    headers = {"Content-Type": "application/sparql-query"}
    return http.post("/sparql", content=query, headers=headers, params=params)


def workers(server) -> set[int]:
    """The pids of the server's worker processes (multiprocessing's resource tracker aside)."""
    children = psutil.Process(server.pid).children()
    return {c.pid for c in children if "resource_tracker" not in " ".join(c.cmdline())}


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE " + "{" * 4000 + "?s ?p ?o" + "}" * 4000,
        "SELECT * WHERE { ?s ?p ?o FILTER(" + "(" * 10000 + "1" + ")" * 10000 + ") }",
        "SELECT * WHERE { " + "{ SELECT * WHERE " * 3000 + "{ ?s ?p ?o }" + " }" * 3000 + " }",
    ],
    ids=["braces", "parentheses", "sub-selects"],
)
def test_deep_nesting_is_refused_before_a_worker_runs_it(server, http, query):
    before = workers(server)
    response = post(http, query)
    assert response.status_code == 400 and "nest more than" in response.text
    assert workers(server) == before


def test_a_query_that_crashes_its_worker_is_refused_and_never_run_again(server, http):
    """A string doubled to 8 GiB: the engine aborts when the worker's memory cap refuses it."""
    crash = doubled(32)
    first = post(http, crash, format="tsv")
    assert first.status_code == 400 and "crashed" in first.text and "try again" not in first.text
    time.sleep(2)  # the replacement worker starts
    before = workers(server)
    again = post(http, crash, format="tsv")
    assert again.status_code == 400 and "not run again" in again.text
    assert workers(server) == before
    assert post(http, "ASK {}").json()["boolean"] is True


def test_a_row_over_16_mib_is_answered_or_refused_with_a_reason(http):
    big = doubled(23)  # one value of 16 MiB
    for name in ("json", "csv"):
        refused = post(http, big, format=name)
        assert refused.status_code == 413 and "format=tsv" in refused.text
    answered = post(http, big, format="tsv")
    assert answered.status_code == 200
    # pyoxigraph's TSV parser stops at 16 MiB lines too: read the two lines of the answer here.
    header, row, end = answered.content.split(b"\n")
    assert (header, row, end) == (b"?b", b'"' + b"ab" * 2**23 + b'"', b"")


def test_answers_over_the_byte_cap_are_refused_and_large_ones_stream(http, spool_root):
    over = post(http, doubled(21, rows=10), format="tsv")  # 10 rows of 4 MiB
    assert over.status_code == 413 and "KG_MAX_ANSWER_BYTES" in over.text
    within = post(http, doubled(21, rows=3), format="json")  # 12 MiB: over the cache's entries
    assert within.status_code == 200 and within.headers["x-cache"] == "miss"
    rows = list(parse_query_results(within.content, QueryResultsFormat.JSON))
    assert [len(row["b"].value) for row in rows] == [2**22] * 3
    head = http.head("/sparql", params={"query": doubled(21, rows=2), "format": "tsv"})
    assert head.status_code == 200 and int(head.headers["content-length"]) > 2**23
    time.sleep(0.2)  # the file of an answer whose body nobody reads goes after the headers
    assert [p for p in spool_root.rglob("*") if p.is_file()] == []  # streamed files are gone


def test_runaway_queries_do_not_starve_light_ones(server, http):
    """Two clients keep both general workers busy with queries that run to the time limit; a
    light query in the meantime still gets its answer (before the express lane: 503)."""
    stop = threading.Event()

    def runaways(client_id: int) -> None:
        with client(server) as own:
            n = 0
            while not stop.is_set() and n < 20:
                post(own, RUNAWAY.format(n=f"{client_id}-{n}"))
                n += 1

    threads = [threading.Thread(target=runaways, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.5)
        statuses = []
        for n in range(25):  # over a time limit: runaways are stopped and sent again
            response = post(http, f"ASK {{ ?s ?p ?o FILTER(?o != {n}) }}")
            statuses.append(response.status_code)
            time.sleep(0.4)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=2 * TIMEOUT + 5)
    assert statuses == [200] * 25, json.dumps(statuses)


def test_descriptions_in_quad_formats_and_terms_a_format_cannot_hold(http):
    for path in ("/sparql", "/.well-known/void"):
        for name, rdf_format in (("nquads", RdfFormat.N_QUADS), ("trig", RdfFormat.TRIG)):
            response = http.get(path, params={"format": name})
            assert response.status_code == 200, (path, name, response.text)
            quads = list(parse(response.content, rdf_format))
            assert quads and all(q.graph_name == DefaultGraph() for q in quads)
    triple_term = 'CONSTRUCT { <http://a> <http://b> <<( <http://a> <http://b> "c" )>> } {}'
    refused = post(http, triple_term, format="jsonld")
    assert refused.status_code == 406 and "JSON-LD" in refused.text


def test_the_cache_keeps_a_digest_of_a_request_not_its_text(server, http):
    """A megabyte-long query, asked in many spellings, adds only its answer to the cache."""
    before = psutil.Process(server.pid).memory_info().rss
    for n in range(60):
        assert post(http, f"ASK {{}} # {n} " + "a" * 900_000).status_code == 200
    assert psutil.Process(server.pid).memory_info().rss - before < 30 * 1024**2
