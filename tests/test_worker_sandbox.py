"""Worker confinement, on real worker processes: no network while the SERVICE allow-list is empty
(even for a query no policy checked), and a cap on the address space."""

import asyncio
from functools import partial

import pytest
from canary import Canary

from kg.server.pool import ProcessPool, WorkerDied
from kg.server.sandbox import network_denied
from kg.server.worker import Confinement, start_worker, warm_up

MEMORY = 3 * 1024**3


def call_service_unchecked(endpoint: str) -> str:
    """What the engine does with a SERVICE call that no policy looked at."""
    from pyoxigraph import Store

    try:
        list(Store().query(f"SELECT * {{ SERVICE <{endpoint}> {{ ?s ?p ?o }} }}"))
    except OSError as error:
        return f"refused: {error}"
    except RuntimeError as error:  # the canary's answer is no SPARQL result
        return f"answered: {error}"
    return "answered"


def confined(_=None) -> bool:
    import os

    return network_denied(os.getpid())


def allocate(size: int) -> int:
    return len(bytearray(size))


def concat_past_the_cap(_=None):
    """A string doubled until it needs gigabytes, inside the engine."""
    from pyoxigraph import Store

    doublings = " ".join(f"BIND(CONCAT(?a{i}, ?a{i}) AS ?a{i + 1})" for i in range(32))
    return list(Store().query(f'SELECT (STRLEN(?a32) AS ?n) {{ BIND("ab" AS ?a0) {doublings} }}'))


def in_worker(network: bool, function, argument, timeout: float = 60):
    async def main():
        pool = ProcessPool(1, partial(start_worker, Confinement(network, MEMORY)), warm_up)
        await pool.start()
        try:
            return await pool.run(function, argument, timeout)
        finally:
            pool.close(1.0)

    return asyncio.run(main())


@pytest.fixture
def canary():
    running = Canary()
    yield running
    running.close()


def test_a_worker_without_network_reaches_nothing(canary):
    outcome = in_worker(False, call_service_unchecked, canary.url)
    assert outcome.startswith("refused") and "ermission denied" in outcome
    assert canary.hits == []
    assert in_worker(False, confined, None) is True
    assert in_worker(True, confined, None) is False


def test_a_worker_with_network_reaches_the_endpoint(canary):
    """The control: the same call from a worker allowed the network reaches the canary."""
    in_worker(True, call_service_unchecked, canary.url)
    assert canary.hits != []


def test_a_worker_cannot_allocate_past_its_memory_cap():
    assert in_worker(True, allocate, 100 * 1024**2) == 100 * 1024**2
    with pytest.raises(MemoryError):
        in_worker(True, allocate, MEMORY)


def test_the_engine_running_out_of_memory_ends_only_its_worker():
    with pytest.raises(WorkerDied) as died:
        in_worker(True, concat_past_the_cap, None, timeout=120)
    assert died.value.signal is not None
