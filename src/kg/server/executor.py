"""Where queries run: pools of worker processes that can be stopped (see `pool`).

pyoxigraph cannot cancel a running query, so a query that outlives its time limit is stopped by
ending the process that runs it, which is also what happens when a client disconnects mid-query
(its task is cancelled). The event loop only awaits answers.

A cheap query must not wait behind expensive ones, and nobody can tell which is which before
running them. So besides the `workers` general processes there is an express lane: one more
process that takes a query when every general worker is busy, for at most `EXPRESS_SECONDS`. A
query still running then is stopped there and waits for a general worker (within its own time
limit); so runaway queries can fill the general workers, but a light query always finds the
express lane within about `EXPRESS_SECONDS` (the replaced express worker restarts meanwhile).
Queries whose shape has run past the budget before (`shapes_seen`) skip the express lane: under a
mixed load they would otherwise keep it stopping and restarting.

Updates go to a pool of one process: writes to the store are serialized anyway (one writer holds
its lock), and stopping a runaway update abandons its private generation, leaving the store as it
was.
"""

import asyncio
import signal
import time
from functools import partial
from typing import Any

from kg.errors import KgError, QueryError
from kg.server import worker
from kg.server.pool import ProcessPool, WorkerDied
from kg.server.shapes_seen import SlowShapes
from kg.server.task import Lane, Task, run_task

#: Seconds running tasks get to finish when the server stops.
CLOSE_GRACE = 2.0
#: Seconds a query may run in the express lane before it moves to a general worker.
EXPRESS_SECONDS = 0.25


class QueryTimeout(KgError):
    """A task ran past its time limit and was stopped."""


class WorkerLost(KgError):
    """The process running a task was killed from outside (the system's out-of-memory killer, an
    operator): nothing says the task itself was at fault."""


class QueryCrashed(QueryError):
    """The query engine crashed while running this query (its stack or memory ran out): the same
    query would crash the next worker too."""


class Executor:
    def __init__(
        self,
        workers: int,
        timeout: float,
        whole_graph_timeout: float,
        confinement: worker.Confinement,
    ) -> None:
        self.timeout = timeout
        self.whole_graph_timeout = whole_graph_timeout
        start = partial(worker.start_worker, confinement)
        self._queries = ProcessPool(workers, start, worker.warm_up)
        self._express = ProcessPool(1, start, worker.warm_up)
        self._writes = ProcessPool(1, start, worker.warm_up)
        self._slow = SlowShapes()

    async def start(self) -> None:
        """Starts every worker process and waits until each has imported what it needs, so that
        the server reports ready only when its first queries can be answered at full speed."""
        for pool in (self._queries, self._express, self._writes):
            await pool.start()

    async def run(self, task: Task) -> Any:
        """What `task.run()` returns, run in the pool its lane names and within its time limit;
        failures in the server's terms (`_guard`)."""
        if task.lane is Lane.READ:
            return await self._guard(self._read(task, task.shape), self.timeout)
        pool = self._writes if task.lane is Lane.WRITE else self._queries
        return await self._guard(pool.run(run_task, task), self.whole_graph_timeout)

    async def _read(self, task: Task, shape: str | None) -> Any:
        if self._slow.is_slow(shape):
            pool, chosen = self._queries, await self._queries.acquire()
        else:
            pool, chosen = await self._either_lane()
        if pool is self._express:
            try:
                async with asyncio.timeout(EXPRESS_SECONDS):
                    return await pool.run_on(chosen, run_task, task)
            except TimeoutError:  # a heavy task: its worker was stopped; wait for a general one
                self._slow.ran(shape, slow=True)
                chosen = await self._queries.acquire()
        started = time.monotonic()
        try:
            value = await self._queries.run_on(chosen, run_task, task)
        except BaseException:  # stopped at the time limit: a runaway's shape is a slow one
            if time.monotonic() - started > EXPRESS_SECONDS:
                self._slow.ran(shape, slow=True)
            raise  # an early error or cancel says nothing about the shape's cost
        slow = pool is self._express or time.monotonic() - started > EXPRESS_SECONDS
        self._slow.ran(shape, slow=slow)
        return value

    async def _either_lane(self):
        """A general worker if one is idle, else the express one if idle, else whichever frees
        first."""
        for pool in (self._queries, self._express):
            if pool.has_idle:
                return pool, await pool.acquire()
        waits = {
            asyncio.ensure_future(self._queries.acquire()): self._queries,
            asyncio.ensure_future(self._express.acquire()): self._express,
        }
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:  # cancelled: a worker acquired meanwhile must not be lost
            _give_back(waits, keep=None)
            raise
        # The general worker first, when both freed at once; the other goes back.
        acquired = sorted(
            (w for w in waits if w.done() and not w.cancelled()),
            key=lambda w: waits[w] is self._express,
        )
        _give_back(waits, keep=acquired[0])
        return waits[acquired[0]], acquired[0].result()

    async def _guard(self, work, timeout: float):
        """Runs `work` within `timeout` seconds from now, its failures in the server's terms."""
        try:
            async with asyncio.timeout(timeout):
                return await work
        except TimeoutError:
            raise QueryTimeout(
                f"stopped after the time limit of {timeout:g} s; narrow the query or add a LIMIT"
            ) from None
        except WorkerDied as error:
            if error.signal is signal.SIGKILL or error.before_task:
                raise WorkerLost(f"{error} (killed from outside); try again") from None
            raise QueryCrashed(
                f"the query engine crashed running this request ({error}): it needed more stack "
                "or memory than a worker has, and would crash the next one too; simplify it"
            ) from None

    def close(self) -> None:
        """Lets running tasks finish for a moment, then stops what is left."""
        for pool in (self._queries, self._express, self._writes):
            pool.close(CLOSE_GRACE)


def _give_back(waits: dict, keep) -> None:
    """Stops the waits for a worker but `keep`, and returns what the finished ones acquired."""
    for waiting, pool in waits.items():
        if waiting is keep:
            continue
        if waiting.done() and not waiting.cancelled():
            pool.release(waiting.result())
        else:
            waiting.cancel()  # a get cancelled before it returns leaves the worker queued
