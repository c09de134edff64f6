"""The worker process pool on its own: answers, errors, time limits, dead workers, big answers."""

import asyncio
import ctypes
import os
import signal
import time

import pytest

from kg.errors import QueryError
from kg.server.executor import Executor
from kg.server.pool import INLINE_ANSWER, ProcessPool, WorkerDied


def start() -> None:
    pass


def warm(_=None) -> None:
    pass


def echo(value):
    return value


def fail(message):
    raise QueryError(message)


def spin(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
    return os.getpid()


def die(_):
    os._exit(3)


def pid(_):
    return os.getpid()


def with_pool(size, scenario):
    async def main():
        pool = ProcessPool(size, start, warm)
        await pool.start()
        try:
            return await scenario(pool)
        finally:
            pool.close(1.0)

    return asyncio.run(main())


def test_answers_and_errors_come_back_with_their_types():
    async def scenario(pool):
        assert await pool.run(echo, {"a": [1, 2]}, 10) == {"a": [1, 2]}
        with pytest.raises(QueryError, match="bad query"):
            await pool.run(fail, "bad query", 10)
        big = b"x" * (INLINE_ANSWER * 8)
        assert await pool.run(echo, big, 10) == big

    with_pool(1, scenario)


def test_a_task_past_its_time_limit_is_stopped_and_its_worker_replaced():
    async def scenario(pool):
        before = await pool.run(pid, None, 10)
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await pool.run(spin, 30, 0.5)
        assert time.monotonic() - started < 1.5
        after = await pool.run(pid, None, 30)  # waits for the replacement to start
        assert after != before
        with pytest.raises(ProcessLookupError):
            os.kill(before, 0)

    with_pool(1, scenario)


def test_waiting_for_a_worker_counts_towards_the_limit():
    async def scenario(pool):
        busy = asyncio.ensure_future(pool.run(spin, 1.0, 10))
        await asyncio.sleep(0.1)
        with pytest.raises(TimeoutError):
            await pool.run(echo, 1, 0.3)
        await busy

    with_pool(1, scenario)


def test_a_worker_that_dies_is_reported_and_replaced():
    async def scenario(pool):
        with pytest.raises(WorkerDied):
            await pool.run(die, None, 10)
        assert await pool.run(echo, "still here", 30) == "still here"

    with_pool(1, scenario)


def test_a_cancelled_task_stops_its_worker():
    async def scenario(pool):
        running = asyncio.ensure_future(pool.run(spin, 30, 60))
        await asyncio.sleep(0.3)
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
        assert await pool.run(echo, 2, 30) == 2

    with_pool(1, scenario)


def crash(_):
    ctypes.string_at(0)  # reads address 0: a real segmentation fault


def deep_query(depth):
    """A query the engine parses recursively: past about 3,000 levels it overflows an 8 MiB
    stack, which is all a process's main thread has."""
    from pyoxigraph import Store

    return list(Store().query("SELECT * WHERE " + "{" * depth + "?s ?p ?o" + "}" * depth))


def test_a_dead_worker_says_how_it_ended():
    async def scenario(pool):
        with pytest.raises(WorkerDied) as exited:
            await pool.run(die, None, 10)
        assert exited.value.exitcode == 3 and exited.value.signal is None
        with pytest.raises(WorkerDied) as crashed:
            await pool.run(crash, None, 30)
        assert crashed.value.signal is signal.SIGSEGV and "SIGSEGV" in str(crashed.value)

    with_pool(1, scenario)


def test_tasks_run_with_a_stack_deeper_than_the_main_thread():
    async def scenario(pool):
        assert await pool.run(deep_query, 20_000, 60) == []

    with_pool(1, scenario)


def test_a_request_cancelled_while_waiting_for_either_lane_gives_its_worker_back():
    """The general worker frees in the same moment as the request is cancelled: the worker
    its wait acquired must go back to the idle ones, or the pool shrinks for good."""

    async def scenario():
        executor = Executor.__new__(Executor)  # the lanes alone: no processes needed
        executor._queries, executor._express = ProcessPool(1, start, warm), ProcessPool(1, start, warm)
        waiting = asyncio.ensure_future(executor._either_lane())
        for _ in range(3):
            await asyncio.sleep(0)  # now waiting on both lanes
        executor._queries.release("general worker")
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert await asyncio.wait_for(executor._queries.acquire(), 1) == "general worker"

    asyncio.run(scenario())


def test_a_worker_killed_while_idle_is_not_blamed_on_the_next_task():
    async def scenario(pool):
        victim = await pool.run(pid, None, 10)
        os.kill(victim, signal.SIGTERM)
        time.sleep(0.5)
        with pytest.raises(WorkerDied) as died:
            await pool.run(echo, 1, 10)
        assert died.value.before_task
        assert await pool.run(echo, 2, 30) == 2

    with_pool(1, scenario)


def start_unless_marked() -> None:
    """Fails while the file named by KG_TEST_NO_START exists (a worker that cannot start)."""
    marker = os.environ.get("KG_TEST_NO_START")
    if marker and os.path.exists(marker):
        raise SystemExit(3)


def test_a_replacement_that_cannot_start_is_tried_again(tmp_path, monkeypatch):
    marker = tmp_path / "no-start"
    monkeypatch.setenv("KG_TEST_NO_START", str(marker))

    async def main():
        pool = ProcessPool(1, start_unless_marked, warm)
        await pool.start()
        try:
            marker.touch()
            with pytest.raises(WorkerDied):
                await pool.run(die, None, 10)
            await asyncio.sleep(1.0)  # the replacement fails to start, at least once
            marker.unlink()
            assert await pool.run(echo, "back", 30) == "back"
        finally:
            pool.close(1.0)

    asyncio.run(main())
