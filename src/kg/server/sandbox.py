"""What a worker process may do, set once when it starts: no network, bounded memory.

The query engine opens HTTP connections for SERVICE clauses. While the allow-list is empty no query
needs one, so a seccomp filter makes every `socket()` call other than a Unix socket fail (EACCES):
whatever the SERVICE check in `service_policy` misreads, the engine reaches nothing. seccomp needs
Linux and libseccomp (Debian's libseccomp2); elsewhere `deny_network` raises `SandboxUnavailable`,
and the worker says so on stderr and keeps its network access (the SERVICE check is then the only
guard, as the README states).

The address space of a worker is capped (RLIMIT_AS), so a query that builds huge values makes
its own worker fail to allocate (the engine aborts) instead of pushing the machine to swap.
"""

import errno
import resource
import socket
import sys


class SandboxUnavailable(RuntimeError):
    """This platform cannot confine a worker's network (not Linux, no libseccomp)."""


def deny_network() -> None:
    """From now on, this process and the threads it starts cannot create network sockets."""
    if sys.platform != "linux":
        raise SandboxUnavailable(f"seccomp filters need Linux, not {sys.platform}")
    try:
        import pyseccomp as seccomp

        rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
        # Every thread of the process, not only the calling one.
        rules.set_attr(seccomp.Attr.CTL_TSYNC, 1)
        refuse = seccomp.ERRNO(errno.EACCES)
        rules.add_rule(refuse, "socket", seccomp.Arg(0, seccomp.NE, socket.AF_UNIX))
        # io_uring can open sockets without the socket() system call.
        rules.add_rule(refuse, "io_uring_setup")
        rules.load()
    except (ImportError, OSError, RuntimeError) as error:  # no libseccomp, or refused by the OS
        raise SandboxUnavailable(f"could not install the seccomp filter: {error}") from error


def limit_memory(max_bytes: int) -> None:
    """Caps the address space of this process (virtual memory: mappings and stacks included),
    within the hard limit it was started with."""
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        max_bytes = min(max_bytes, hard)
    resource.setrlimit(resource.RLIMIT_AS, (max_bytes, hard))


def network_denied(pid: int) -> bool:
    """Whether process `pid` runs under a seccomp filter (Linux's /proc tells)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            return any(line.split() == ["Seccomp:", "2"] for line in status)
    except OSError:
        return False
