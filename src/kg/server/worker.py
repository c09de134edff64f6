"""How a worker process starts: it confines itself (`sandbox`: no network while the SERVICE
allow-list is empty, an address-space cap) and dies with the server. What workers run are tasks
(`task`); each names the store snapshot it reads, opened read-only and kept between tasks.
"""

import ctypes
import os
import signal
import sys
from dataclasses import dataclass

from kg.server import sandbox


@dataclass(frozen=True)
class Confinement:
    """What a worker may do: open network connections or not, and how much memory it may map."""

    network: bool
    memory_bytes: int


#: prctl(2) option: the signal this process gets when its parent dies.
PR_SET_PDEATHSIG = 1


def start_worker(confinement: Confinement) -> None:
    """Runs first in each worker process. SIGTERM gets its default action (a Python handler would
    wait for the running Rust query to return), and on Linux the worker is killed when the server
    dies, even by SIGKILL, rather than left running its query. Then the worker confines itself."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if not confinement.network:
        try:
            sandbox.deny_network()
        except sandbox.SandboxUnavailable as error:
            print(f"kg serve: worker {os.getpid()} keeps network access: {error}", file=sys.stderr)
    sandbox.limit_memory(confinement.memory_bytes)


def warm_up(_: object = None) -> None:
    """Imports the modules tasks come from, so that a new worker's first task runs at full
    speed (unpickling a task would import its module then)."""
    import kg.server.sparql_tasks  # noqa: F401
    import kg.site.reads  # noqa: F401
