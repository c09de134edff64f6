"""An asyncio pool of worker processes whose tasks can be stopped.

A task past its time limit, or whose caller gave up (cancelled), is stopped by killing its worker,
which is replaced by a fresh one. Pebble did this first, but it hands every task and answer across
three threads, which cost about a millisecond per query. Here the event loop writes the task to
the worker's pipe and reads the answer when the pipe becomes readable; only answers large enough
to take a while to read (megabytes of results) are read in a thread.
"""

import asyncio
import multiprocessing
import os
import pickle
import signal
from collections.abc import Callable
from contextlib import suppress
from multiprocessing.connection import Connection
from typing import Any

#: Answers up to this many bytes are read on the event loop; larger ones in a thread.
INLINE_ANSWER = 256 * 1024
#: Seconds a replacement worker may take to start and import what tasks need.
START_TIMEOUT = 60.0


class WorkerDied(Exception):
    """The worker process ended without answering (killed from outside, out of memory)."""


def _serve(connection: Connection, initializer: Callable[[], None]) -> None:
    """A worker's life: run tasks from the pipe until told to stop (None) or the pipe closes."""
    initializer()
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        function, argument = message
        try:
            outcome = (True, function(argument))
        except Exception as error:  # the caller re-raises it: nothing is swallowed here
            outcome = (False, error)
        try:
            data = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as error:  # an answer or error that cannot be pickled
            failure = (False, RuntimeError(f"the worker could not send back: {error!r}"))
            data = pickle.dumps(failure)
        # The size first, so that the server knows whether reading the answer could block it.
        connection.send_bytes(len(data).to_bytes(8, "big"))
        connection.send_bytes(data)


def _resolve(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)


class _Worker:
    def __init__(self, context, initializer: Callable[[], None]) -> None:
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, initializer), daemon=True)
        self.process.start()
        child.close()

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def kill(self) -> None:
        if self.process.is_alive():
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.join()


class ProcessPool:
    """`size` worker processes (spawned: fresh interpreters, not forks of a threaded server)."""

    def __init__(self, size: int, initializer: Callable[[], None], warm_up: Callable) -> None:
        self._context = multiprocessing.get_context("spawn")
        self._size = size
        self._initializer = initializer
        self._warm_up = warm_up
        self._workers: set[_Worker] = set()
        self._idle: asyncio.Queue[_Worker] = asyncio.Queue()
        self._starting: set[asyncio.Task] = set()

    async def start(self) -> None:
        """Starts the workers and returns once each has imported what tasks need."""
        await asyncio.gather(*(self._start_worker() for _ in range(self._size)))

    async def run(self, function: Callable[[Any], Any], argument: Any, timeout: float) -> Any:
        """`function(argument)` in a worker; TimeoutError after `timeout` seconds counted from
        now, waiting for a free worker included."""
        async with asyncio.timeout(timeout):
            worker = await self._idle.get()
            try:
                ok, value = await self._call(worker, function, argument)
            except BaseException:  # timed out, cancelled, or the worker died: it cannot be reused
                self._replace(worker)
                raise
        self._idle.put_nowait(worker)
        if ok:
            return value
        raise value

    async def _call(self, worker: _Worker, function: Callable, argument: Any) -> tuple:
        worker.connection.send((function, argument))
        loop = asyncio.get_running_loop()
        readable = loop.create_future()
        descriptor = worker.connection.fileno()
        loop.add_reader(descriptor, _resolve, readable)
        try:
            await readable
        finally:
            loop.remove_reader(descriptor)
            os.set_blocking(descriptor, True)  # uvloop's add_reader made it non-blocking
        try:
            size = int.from_bytes(worker.connection.recv_bytes(8), "big")
            if size <= INLINE_ANSWER:  # written by now, or within microseconds
                data = worker.connection.recv_bytes()
            else:
                data = await asyncio.to_thread(worker.connection.recv_bytes)
        except (EOFError, OSError):
            raise WorkerDied(f"worker process {worker.pid} ended without an answer") from None
        return pickle.loads(data)

    def _replace(self, worker: _Worker) -> None:
        self._workers.discard(worker)
        worker.kill()
        task = asyncio.get_running_loop().create_task(self._start_worker())
        self._starting.add(task)
        task.add_done_callback(self._starting.discard)

    async def _start_worker(self) -> None:
        worker = _Worker(self._context, self._initializer)
        self._workers.add(worker)
        try:
            async with asyncio.timeout(START_TIMEOUT):
                ok, value = await self._call(worker, self._warm_up, None)
        except BaseException:
            self._workers.discard(worker)
            worker.kill()
            raise
        if not ok:
            raise value
        self._idle.put_nowait(worker)

    def close(self, grace: float) -> None:
        """Asks every worker to stop, gives them `grace` seconds, then kills what is left."""
        for task in self._starting:
            task.cancel()
        for worker in self._workers:
            with suppress(OSError):  # a worker already gone
                worker.connection.send(None)
        for worker in self._workers:
            worker.process.join(grace)
            worker.kill()
        self._workers.clear()
