"""Each safety rule of `kg serve`, against real servers on 127.0.0.1: a test per rule that fails
without it. Server A takes updates (with a token), caps rows and bodies, and has a short time
limit; server B is read-only with the defaults and is the one SERVICE endpoint A may call."""

import json
import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest
from canary import Canary
from served import client, copy_store, kg_server

TOKEN = "s3cret-token"
HEAVY = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # about 10^9 rows
TIMEOUT = 2.0


@pytest.fixture(scope="module")
def server_b(sample_store):
    with kg_server(sample_store) as running:
        yield running


@pytest.fixture(scope="module")
def server_a(sample_store, server_b, tmp_path_factory):
    store = copy_store(sample_store, tmp_path_factory.mktemp("a") / "store")
    env = {
        "KG_MAX_ROWS": "5",
        "KG_MAX_BODY": "4000",
        "KG_SERVICE_ALLOWLIST": json.dumps([f"{server_b.url}/sparql"]),
    }
    options = ["--update-token", TOKEN, "--query-timeout", str(TIMEOUT)]
    with kg_server(store, *options, env=env) as running:
        yield running


@pytest.fixture(scope="module")
def a(server_a):
    with client(server_a) as http_client:
        yield http_client


@pytest.fixture(scope="module")
def b(server_b):
    with client(server_b) as http_client:
        yield http_client


@pytest.fixture
def canary():
    running = Canary()
    yield running
    running.close()


def update(client, text, token=TOKEN, **params):
    headers = {"Content-Type": "application/sparql-update"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return client.post("/sparql", content=text, headers=headers, params=params)


def bindings(response):
    assert response.status_code == 200, response.text
    return response.json()["results"]["bindings"]


# --- writes need the token ---------------------------------------------------------------------


def test_updates_need_the_bearer_token(a):
    insert = 'INSERT DATA { GRAPH <urn:kg:test:auth> { <urn:x> <urn:p> "auth" } }'
    missing = update(a, insert, token=None)
    assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith("Bearer")
    assert update(a, insert, token="s3cret-tokeX").status_code == 401
    assert a.post("/update", data={"update": insert}).status_code == 401
    assert a.put("/store", params={"graph": "urn:g"}, content=b"").status_code == 401
    ask = {"query": 'ASK { <urn:x> <urn:p> "auth" }'}
    assert a.get("/sparql", params=ask).json()["boolean"] is False
    assert update(a, insert).status_code == 204
    assert a.get("/sparql", params=ask).json()["boolean"] is True  # in the default graph too


def test_a_server_without_token_is_read_only(b):
    response = update(b, "CLEAR ALL")
    assert response.status_code == 403 and "read-only" in response.text


def test_updates_may_not_write_the_default_graph(a):
    response = update(a, 'INSERT DATA { <urn:x> <urn:p> "default" }')
    assert response.status_code == 400 and "named graph" in response.text


def test_update_syntax_errors_are_400(a):
    response = update(a, "INSERT DATA { GRAPH <urn:g> { <urn:a> } }")
    assert response.status_code == 400 and "invalid SPARQL update" in response.text


# --- no network or file access from queries ------------------------------------------------------


@pytest.mark.parametrize("target", ["file:///etc/passwd", "canary"])
def test_service_outside_the_allow_list_is_refused(a, canary, target):
    iri = canary.url if target == "canary" else target
    response = a.get("/sparql", params={"query": f"SELECT * {{ SERVICE <{iri}> {{ ?s ?p ?o }} }}"})
    assert response.status_code == 403 and iri in response.text
    silent = a.get(
        "/sparql",
        params={"query": f"PREFIX x: <{iri}#> SELECT * {{ service silent x: {{ ?s ?p ?o }} }}"},
    )
    assert silent.status_code == 403
    variable = a.get("/sparql", params={"query": "SELECT * { SERVICE ?e { ?s ?p ?o } }"})
    assert variable.status_code == 403
    hidden = f'SELECT * {{ BIND("""x""" AS ?a) SERVICE <{iri}> {{ ?s ?p ?o }} }}'
    assert a.get("/sparql", params={"query": hidden}).status_code == 403
    in_update = f'INSERT {{ GRAPH <urn:g> {{ ?s ?p ?o }} }} WHERE {{ BIND("""x""" AS ?a) SERVICE <{iri}> {{ ?s ?p ?o }} }}'
    assert update(a, in_update).status_code == 403
    assert canary.hits == []


def test_service_in_the_allow_list_is_called(a, server_b):
    query = f"SELECT ?m {{ SERVICE <{server_b.url}/sparql> {{ ?m a kg:Mitigation }} }} ORDER BY ?m"
    query = "PREFIX kg: <https://w3id.org/airm-kg/ontology#> " + query
    assert len(bindings(a.get("/sparql", params={"query": query}))) == 5  # the row cap


def test_the_word_service_in_a_string_is_not_a_service_call(a):
    query = 'SELECT ("SERVICE <file:///etc/passwd>" AS ?x) {}'
    assert bindings(a.get("/sparql", params={"query": query}))[0]["x"]["value"].startswith(
        "SERVICE"
    )


@pytest.mark.parametrize("target", ["file:///etc/passwd", "canary"])
def test_load_is_refused(a, canary, target):
    iri = canary.url if target == "canary" else target
    response = update(a, f"LOAD <{iri}> INTO GRAPH <urn:kg:test:load>")
    assert response.status_code == 403 and "LOAD" in response.text
    assert canary.hits == []


@pytest.mark.parametrize("target", ["file:///etc/passwd", "canary"])
def test_from_is_not_dereferenced(a, canary, target):
    iri = canary.url if target == "canary" else target
    for query in (
        f"SELECT * FROM <{iri}> {{ ?s ?p ?o }}",
        f"SELECT * FROM NAMED <{iri}> {{ GRAPH ?g {{ ?s ?p ?o }} }}",
    ):
        assert bindings(a.get("/sparql", params={"query": query})) == []
    assert (
        bindings(
            a.get("/sparql", params={"query": "SELECT * { ?s ?p ?o }", "default-graph-uri": iri})
        )
        == []
    )
    assert canary.hits == []


# --- limits ------------------------------------------------------------------------------------


def test_runaway_query_is_stopped_with_503_and_its_cpu_use_ends(a, server_a):
    started = time.monotonic()
    response = a.get("/sparql", params={"query": HEAVY})
    elapsed = time.monotonic() - started
    assert response.status_code == 503 and "time limit" in response.text
    assert TIMEOUT <= elapsed < TIMEOUT + 3
    time.sleep(1.5)  # the pool replaces the stopped worker; let the new one finish starting
    assert _cpu_seconds_over(server_a.pid, 1.0) < 0.3


def _cpu_seconds_over(pid: int, seconds: float) -> float:
    """CPU time the server and its worker processes use over the next `seconds`."""

    def total() -> dict[int, float]:
        root = psutil.Process(pid)
        used = {}
        for process in [root, *root.children(recursive=True)]:
            try:
                times = process.cpu_times()
                used[process.pid] = times.user + times.system
            except psutil.NoSuchProcess:
                pass
        return used

    before = total()
    time.sleep(seconds)
    after = total()
    return sum(after[p] - before.get(p, 0.0) for p in after)


def test_the_time_limit_counts_from_arrival_when_every_worker_is_busy(a):
    """Three runaway queries on two workers: the third waits for a worker, and still gets its
    503 at the time limit, not after the others' limits plus its own."""
    from concurrent.futures import ThreadPoolExecutor

    def run(n):
        started = time.monotonic()
        response = a.get("/sparql", params={"query": f"{HEAVY} # queued {n}"})
        return response.status_code, time.monotonic() - started

    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(run, range(3)))
    assert [status for status, _ in answers] == [503, 503, 503]
    assert max(elapsed for _, elapsed in answers) < TIMEOUT + 1.5, answers
    time.sleep(2)  # let the pool replace its stopped workers before the next test


def test_light_queries_answer_while_a_heavy_one_runs(a):
    """Light queries are answered before the heavy one ends (its time limit): a free worker
    takes them. How fast is a speed goal: bench/starvation_bench.py measures it."""
    for n in range(3):  # the worker processes are started and warm
        a.get("/sparql", params={"query": f"ASK {{}} # warm {n}"})
    heavy = threading.Thread(target=lambda: a.get("/sparql", params={"query": HEAVY + " # 2"}))
    heavy.start()
    time.sleep(0.3)
    for n in range(5):
        response = a.get("/sparql", params={"query": f"ASK {{}} # {n} {time.time()}"})
        assert response.status_code == 200 and response.headers["x-cache"] == "miss"
    assert heavy.is_alive()  # still waiting for its 503 at the time limit
    heavy.join()


def test_rows_are_capped_and_the_cap_is_said(a):
    select = a.get("/sparql", params={"query": "SELECT ?s { ?s ?p ?o }"})
    assert len(bindings(select)) == 5 and select.headers["x-sparql-maxrows"] == "5"
    construct = a.get(
        "/sparql",
        params={"query": "CONSTRUCT WHERE { ?s ?p ?o }"},
        headers={"Accept": "application/n-triples"},
    )
    assert len(construct.text.splitlines()) == 5 and construct.headers["x-sparql-maxrows"] == "5"
    small = a.get("/sparql", params={"query": "SELECT ?x { VALUES ?x { 1 2 3 } }"})
    assert len(bindings(small)) == 3 and "x-sparql-maxrows" not in small.headers


def test_request_bodies_over_the_cap_get_413(a):
    query = "ASK {} #" + "x" * 5000
    direct = a.post("/sparql", content=query, headers={"Content-Type": "application/sparql-query"})
    assert direct.status_code == 413
    assert a.post("/sparql", data={"query": query}).status_code == 413


def test_malformed_query_gets_400_with_the_parser_message(a):
    response = a.get("/sparql", params={"query": "SELECT ?x WHERE { ?x"})
    assert response.status_code == 400 and "error at 1:" in response.text


# --- caching -----------------------------------------------------------------------------------


def test_etag_follows_the_data_version_and_the_cache_empties_on_writes(a):
    params = {"query": "SELECT (COUNT(*) AS ?n) { GRAPH <urn:kg:test:etag> { ?s ?p ?o } }"}
    first = a.get("/sparql", params=params)
    second = a.get("/sparql", params=params)
    assert first.headers["x-cache"] == "miss" and second.headers["x-cache"] == "hit"
    assert first.headers["etag"] == second.headers["etag"]
    unchanged = a.get("/sparql", params=params, headers={"If-None-Match": first.headers["etag"]})
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert (
        update(
            a, "INSERT DATA { GRAPH <urn:kg:test:etag> { <urn:a> <urn:b> <urn:c> } }"
        ).status_code
        == 204
    )
    after = a.get("/sparql", params=params, headers={"If-None-Match": first.headers["etag"]})
    assert after.status_code == 200 and after.headers["x-cache"] == "miss"
    assert after.headers["etag"] != first.headers["etag"]
    assert bindings(after)[0]["n"]["value"] == "1"


def test_exports_follow_the_data_version(a):
    dump = a.get("/dump.nt")
    tag = dump.headers["etag"]
    assert a.get("/dump.nt", headers={"If-None-Match": tag}).status_code == 304
    assert (
        update(
            a, "INSERT DATA { GRAPH <urn:kg:test:dump> { <urn:d> <urn:e> <urn:f> } }"
        ).status_code
        == 204
    )
    fresh = a.get("/dump.nt", headers={"If-None-Match": tag})
    assert fresh.status_code == 200 and "<urn:d> <urn:e> <urn:f> ." in fresh.text.splitlines()


def test_store_files_outside_generations_are_only_exports(server_a):
    store = Path(server_a.command[server_a.command.index("--store") + 1])
    assert {p.name for p in store.iterdir() if not p.name.startswith("gen-")} <= {
        "current",
        "write.lock",
        "exports",
    }


def test_a_query_whose_client_leaves_is_stopped(b, server_b):
    """Server B stops queries after 10 s; this one's client leaves after 0.3 s, and the worker
    that ran it is killed well before the time limit."""
    workers = {child.pid for child in psutil.Process(server_b.pid).children(recursive=True)}
    with pytest.raises(httpx.ReadTimeout):
        b.get("/sparql", params={"query": HEAVY + " # leaving"}, timeout=0.3)
    deadline = time.monotonic() + 4
    while all(psutil.pid_exists(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not all(psutil.pid_exists(pid) for pid in workers)


def test_updates_are_refused_before_their_body_is_read(a):
    big = "INSERT DATA { GRAPH <urn:g> { <urn:a> <urn:b> <urn:c> } } #" + "x" * 10_000
    assert update(a, big, token=None).status_code == 401  # not 413: the token comes first


def test_head_requests(a):
    for path in ("/health", "/dump.nt", "/.well-known/void", "/sparql?query=ASK%20%7B%7D"):
        response = a.head(path)
        assert response.status_code == 200 and response.content == b"", path
