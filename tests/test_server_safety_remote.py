"""The safety rules of `kg serve` hold with kg on a SPARQL engine: test_server_safety's tests,
run again with server A's store on an Oxigraph server. That engine follows SERVICE IRIs itself,
so kg's policy is what keeps it from calling them; it has a time limit of its own (kg's, given
to `oxigraph serve --timeout-s`), so a runaway query stops in the engine as well as in kg."""

import subprocess
import sys
import time

import psutil
import pytest
from conftest import SAMPLE
from engines import oxigraph, remote_env
from served import kg_server

# The tests are collected here again and find this module's server A (fixtures by name).
from test_server_safety import (  # noqa: F401
    HEAVY,
    TIMEOUT,
    TOKEN,
    a,
    b,
    canary,
    server_b,
    test_etag_follows_the_data_version_and_the_cache_empties_on_writes,
    test_exports_follow_the_data_version,
    test_from_is_not_dereferenced,
    test_head_requests,
    test_load_is_refused,
    test_malformed_query_gets_400_with_the_parser_message,
    test_request_bodies_over_the_cap_get_413,
    test_rows_are_capped_and_the_cap_is_said,
    test_runaway_query_is_stopped_with_503_and_its_cpu_use_ends,
    test_service_in_the_allow_list_is_called,
    test_service_outside_the_allow_list_is_refused,
    test_the_time_limit_counts_from_arrival_when_every_worker_is_busy,
    test_the_word_service_in_a_string_is_not_a_service_call,
    test_update_syntax_errors_are_400,
    test_updates_are_refused_before_their_body_is_read,
    test_updates_may_not_write_the_default_graph,
    test_updates_need_the_bearer_token,
)

pytestmark = pytest.mark.shared


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    directory = tmp_path_factory.mktemp("engine")
    with oxigraph(directory, "--timeout-s", str(int(TIMEOUT))) as running:
        env = remote_env(running, directory)
        load = [sys.executable, "-m", "kg", "load", str(SAMPLE)]
        subprocess.run(load, env=env, check=True, capture_output=True)
        yield running, env


@pytest.fixture(scope="module")
def server_a(engine, server_b):  # noqa: F811 (the fixture, imported)
    running, env = engine
    env = {
        **env,
        "KG_MAX_ROWS": "5",
        "KG_MAX_BODY": "4000",
        "KG_SERVICE_ALLOWLIST": f'["{server_b.url}/sparql"]',
    }
    options = ["--update-token", TOKEN, "--query-timeout", str(TIMEOUT)]
    with kg_server(running.store_url, *options, env=env) as served:
        yield served


def test_the_engine_stops_a_runaway_query_too(a, engine):  # noqa: F811
    running, _ = engine
    response = a.get("/sparql", params={"query": HEAVY + " # in the engine"})
    assert response.status_code == 503 and "time limit" in response.text
    time.sleep(TIMEOUT)  # the engine's own limit has passed too
    process = psutil.Process(running.pid)
    before = sum(process.cpu_times()[:2])
    time.sleep(1.0)
    assert sum(process.cpu_times()[:2]) - before < 0.3
