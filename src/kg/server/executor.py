"""Where queries run: pools of worker processes that can be stopped (see `pool`).

pyoxigraph cannot cancel a running query, so a query that outlives its time limit is stopped by
ending the process that runs it, which is also what happens when a client disconnects mid-query
(its task is cancelled). The event loop only awaits answers, so a heavy query never delays a light
one unless every worker is busy.

Updates go to a pool of one process: writes to the store are serialized anyway (one writer holds
its lock), and stopping a runaway update abandons its private generation, leaving the store as it
was.
"""

from collections.abc import Callable
from typing import TypeVar

from kg.errors import KgError
from kg.server import worker
from kg.server.pool import ProcessPool, WorkerDied

T = TypeVar("T")
#: Seconds running tasks get to finish when the server stops.
CLOSE_GRACE = 2.0


class QueryTimeout(KgError):
    """A task ran past its time limit and was stopped."""


class WorkerLost(KgError):
    """The process running a task ended without an answer (killed, out of memory)."""


class Executor:
    def __init__(self, workers: int, timeout: float, whole_graph_timeout: float) -> None:
        self.timeout = timeout
        self.whole_graph_timeout = whole_graph_timeout
        self._queries = ProcessPool(workers, worker.start_worker, worker.warm_up)
        self._writes = ProcessPool(1, worker.start_worker, worker.warm_up)

    async def start(self) -> None:
        """Starts every worker process and waits until each has imported what it needs, so that
        the server reports ready only when its first queries can be answered at full speed."""
        await self._queries.start()
        await self._writes.start()

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
        try:
            return await pool.run(function, task, timeout)
        except TimeoutError:
            raise QueryTimeout(
                f"stopped after the time limit of {timeout:g} s; narrow the query or add a LIMIT"
            ) from None
        except WorkerDied as error:
            raise WorkerLost(f"{error}; try again") from None

    def close(self) -> None:
        """Lets running tasks finish for a moment, then stops what is left."""
        for pool in (self._queries, self._writes):
            pool.close(CLOSE_GRACE)
