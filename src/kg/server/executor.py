"""Where queries run: pools of worker processes that can be stopped.

pyoxigraph cannot cancel a running query, so a query that outlives its time limit is stopped by
ending the process that runs it: Pebble's process pool terminates that worker and starts a fresh
one, which is also what happens when a client disconnects mid-query (its task is cancelled). The
event loop only awaits futures, so a heavy query never delays a light one beyond the pool's size.

Updates go to a pool of one process: writes to the store are serialized anyway (one writer holds
its lock), and stopping a runaway update abandons its private generation, leaving the store as it
was.
"""

import asyncio
import multiprocessing
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

from pebble import ProcessExpired, ProcessPool

from kg.errors import KgError
from kg.server import worker

T = TypeVar("T")
#: Seconds running tasks get to finish when the server stops.
CLOSE_GRACE = 2.0


class QueryTimeout(KgError):
    """A task ran past its time limit and was stopped."""


class WorkerLost(KgError):
    """The process running a task ended without an answer (killed, out of memory)."""


class Executor:
    def __init__(self, workers: int, timeout: float, whole_graph_timeout: float) -> None:
        # Fresh interpreters, not forks of a server that runs threads.
        context = multiprocessing.get_context("spawn")
        self.timeout = timeout
        self._workers = workers
        self.whole_graph_timeout = whole_graph_timeout
        self._queries = ProcessPool(
            max_workers=workers, context=context, initializer=worker.start_worker
        )
        self._writes = ProcessPool(max_workers=1, context=context, initializer=worker.start_worker)

    async def start(self) -> None:
        """Starts every worker process and waits until each has imported what it needs, so that
        the server reports ready only when its first queries can be answered at full speed."""
        for pool, size in ((self._queries, self._workers), (self._writes, 1)):
            futures = [pool.schedule(worker.warm_up) for _ in range(size)]
            await asyncio.gather(*(asyncio.wrap_future(f) for f in futures))

    async def query(self, task: worker.QueryTask) -> worker.Answer:
        return await self._run(self._queries, worker.run_query, task, self.timeout)

    async def export(self, task: worker.ExportTask) -> None:
        await self._run(self._queries, worker.run_export, task, self.whole_graph_timeout)

    async def statistics(self, generation: str | None) -> dict:
        return await self._run(
            self._queries, worker.dataset_statistics, generation, self.whole_graph_timeout
        )

    async def update(self, task: worker.UpdateTask) -> None:
        await self._run(self._writes, worker.run_update, task, self.whole_graph_timeout)

    async def _run(self, pool: ProcessPool, function: Callable[..., T], task, timeout: float) -> T:
        future = pool.schedule(function, args=(task,), timeout=timeout)
        try:
            # The limit counts from arrival, time waiting for a free worker included; expiry
            # cancels the task, which stops its worker if it had started.
            return await asyncio.wait_for(asyncio.wrap_future(future), timeout)
        except (FutureTimeout, TimeoutError):
            raise QueryTimeout(
                f"stopped after the time limit of {timeout:g} s; narrow the query or add a LIMIT"
            ) from None
        except ProcessExpired as error:
            raise WorkerLost(f"the query process ended without an answer ({error})") from None

    def close(self) -> None:
        """Lets running tasks finish for a moment, then stops what is left."""
        for pool in (self._queries, self._writes):
            pool.close()
        for pool in (self._queries, self._writes):
            try:
                pool.join(timeout=CLOSE_GRACE)
            except TimeoutError:
                pool.stop()
                pool.join()
