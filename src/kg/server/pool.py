"""An asyncio pool of worker processes whose tasks can be stopped.

A task past its time limit, or whose caller gave up (cancelled), is stopped by killing its worker,
which is replaced by a fresh one. Pebble did this first, but it hands every task and answer across
three threads, which cost about a millisecond per query. Here the event loop writes the task to
the worker's pipe and reads the answer when the pipe becomes readable; only answers large enough
to take a while to read (megabytes of results) are read in a thread.

Tasks run in a thread with a large stack: the query engine parses and plans recursively, and deep
queries that overflow the main thread's 8 MiB run within it (the server also refuses nesting past
a limit, see `policy.check_nesting`). A worker that dies anyway reports how (`WorkerDied.signal`).
"""

import asyncio
import itertools
import logging
import multiprocessing
import os
import pickle
import signal
import threading
from collections.abc import Callable
from contextlib import suppress
from multiprocessing.connection import Connection
from typing import Any

logger = logging.getLogger("kg.server")

#: Answers up to this many bytes are read on the event loop; larger ones in a thread.
INLINE_ANSWER = 256 * 1024
#: Seconds a replacement worker may take to start and import what tasks need.
START_TIMEOUT = 60.0
#: Seconds between tries to start a replacement worker, at most.
RESTART_DELAY_MAX = 30.0
#: Stack of the thread that runs tasks (address space reserved; pages are used as needed).
TASK_STACK_BYTES = 1024 * 1024 * 1024


class WorkerDied(Exception):
    """The worker process ended without answering: killed, or crashed by what it ran."""

    def __init__(self, pid: int | None, exitcode: int | None, before_task: bool = False) -> None:
        self.pid = pid
        self.exitcode = exitcode
        #: The worker was gone before it got the task: the task cannot be what ended it.
        self.before_task = before_task
        how = "ended" if exitcode is None else _describe_exit(exitcode)
        when = "before it got its task" if before_task else "without an answer"
        super().__init__(f"worker process {pid} {how} {when}")

    @property
    def signal(self) -> signal.Signals | None:
        """The signal that ended the worker, if one did."""
        if self.exitcode is not None and self.exitcode < 0:
            return signal.Signals(-self.exitcode)
        return None


def _describe_exit(exitcode: int) -> str:
    if exitcode < 0:
        return f"was ended by {signal.Signals(-exitcode).name}"
    return f"exited with status {exitcode}"


def _serve(connection: Connection, initializer: Callable[[], None]) -> None:
    """A worker's life: set up, then run tasks in a thread with a large stack."""
    initializer()
    threading.stack_size(TASK_STACK_BYTES)
    runner = threading.Thread(target=_answer_tasks, args=(connection,), name="tasks")
    runner.start()
    runner.join()


def _answer_tasks(connection: Connection) -> None:
    """Runs tasks from the pipe until told to stop (None) or the pipe closes."""
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
        """Ends the process now; reaping it (`process.join`) is the caller's."""
        if self.process.is_alive():
            with suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGKILL)


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

    async def run(
        self, function: Callable[[Any], Any], argument: Any, timeout: float | None = None
    ) -> Any:
        """`function(argument)` in a worker; TimeoutError after `timeout` seconds (if given)
        counted from now, waiting for a free worker included."""
        async with asyncio.timeout(timeout):
            worker = await self.acquire()
            return await self.run_on(worker, function, argument)

    @property
    def has_idle(self) -> bool:
        return not self._idle.empty()

    async def acquire(self) -> "_Worker":
        """An idle worker, once there is one; give it to `run_on` or back with `release`."""
        return await self._idle.get()

    def release(self, worker: "_Worker") -> None:
        self._idle.put_nowait(worker)

    async def run_on(self, worker: "_Worker", function: Callable[[Any], Any], argument: Any) -> Any:
        """`function(argument)` in an acquired worker, which goes back to the idle ones after."""
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
        try:
            worker.connection.send((function, argument))
        except OSError:  # it died while idle (killed from outside): not this task's doing
            worker.process.join(1.0)
            raise WorkerDied(worker.pid, worker.process.exitcode, before_task=True) from None
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
            worker.process.join(1.0)  # a dead worker's exit code is there once it is reaped
            raise WorkerDied(worker.pid, worker.process.exitcode) from None
        return pickle.loads(data)

    def _replace(self, worker: _Worker) -> None:
        self._workers.discard(worker)
        worker.kill()
        task = asyncio.get_running_loop().create_task(self._restart(worker))
        self._starting.add(task)
        task.add_done_callback(self._starting.discard)

    async def _restart(self, dead: _Worker) -> None:
        """Reaps a killed worker off the event loop (a large process takes a while to go), then
        starts its replacement, again and again while starting fails (no memory, no file
        handles): a pool that silently shrank would end answering nothing."""
        await asyncio.to_thread(dead.process.join)
        for attempt in itertools.count():
            try:
                await self._start_worker()
                return
            except Exception as error:  # whatever stopped it, the pool must get its worker back
                delay = min(RESTART_DELAY_MAX, 0.5 * 2**attempt)
                logger.error("a worker could not start (%r); next try in %g s", error, delay)
                await asyncio.sleep(delay)

    async def _start_worker(self) -> None:
        worker = _Worker(self._context, self._initializer)
        self._workers.add(worker)
        try:
            async with asyncio.timeout(START_TIMEOUT):
                ok, value = await self._call(worker, self._warm_up, None)
            if not ok:
                raise value
        except BaseException:
            self._workers.discard(worker)
            worker.kill()  # reaped by multiprocessing when the next process starts
            raise
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
            worker.process.join()
        self._workers.clear()
