"""What the server asks of its worker processes: a task is a small picklable value that carries
everything its work needs (a store snapshot, never a live handle) and does it in `run`.

A new kind of read is one `Task` subclass and one route: `Executor.run(task)` sends any task to
the pool its `lane` names, within the time limit the lane has, and returns what `run` returned
(or raises what it raised) in the server process.
"""

from abc import ABC, abstractmethod
from enum import Enum
from typing import Any, ClassVar


class Lane(Enum):
    READ = "read"  # answers a request: the query time limit, the express lane when it is idle
    WHOLE_GRAPH = "whole-graph"  # reads everything (exports, statistics): a longer time limit
    WRITE = "write"  # changes the store: one writer at a time, the longer time limit


class Task(ABC):
    lane: ClassVar[Lane] = Lane.READ

    @property
    def shape(self) -> str | None:
        """What tasks of about the same cost share, for the express lane's memory of slow ones
        (`shapes_seen`); None for a task to keep off the express lane."""
        return type(self).__name__

    @abstractmethod
    def run(self) -> Any:
        """Runs in a worker process; the value and any exception travel back pickled."""


def run_task(task: Task) -> Any:
    """The one function workers are sent (a module-level function pickles by name)."""
    return task.run()
