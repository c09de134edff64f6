"""Run a server as a real process for tests: a free 127.0.0.1 port, wait until ready, stop by PID.

    with ServerProcess([sys.executable, "-m", "kg", "serve", "--port", "{port}"]) as server:
        httpx.get(server.url + "/health")

Every `{port}` in the command's arguments is replaced by the port chosen. The server must bind to
127.0.0.1 only. Its stdout and stderr go to temporary files, so a chatty server never blocks on a
full pipe, and a server that exits or never becomes ready fails the test with its stderr.
"""

import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class ServerNotReady(RuntimeError):
    """The server exited, or did not answer 200 at its readiness URL in time."""


class ServerProcess:
    """A server started as a child process; a context manager that stops it on exit.

    `ready_path` is the path (and query) that must answer 200 before the server counts as ready.
    """

    def __init__(
        self,
        command: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        ready_path: str = "/health",
        ready_timeout: float = 20.0,
        stop_grace: float = 5.0,
    ) -> None:
        self.port = free_port()
        self.command = [arg.replace("{port}", str(self.port)) for arg in command]
        self.env = dict(os.environ if env is None else env)
        self.cwd = cwd
        self.ready_path = ready_path
        self.ready_timeout = ready_timeout
        self.stop_grace = stop_grace
        self.url = f"http://{HOST}:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None
        # The logs live as long as the server object: closed by __exit__, not by a with block.
        self._stdout = tempfile.TemporaryFile()  # noqa: SIM115
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError("the server has not been started")
        return self._process.pid

    def start(self) -> "ServerProcess":
        self._process = subprocess.Popen(
            self.command,
            env=self.env,
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            stdout=self._stdout,
            stderr=self._stderr,
        )
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_ready(self) -> None:
        # No proxy: a proxy set in the environment must not see requests to the loopback address.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        ready_url = self.url + self.ready_path
        deadline = time.monotonic() + self.ready_timeout
        last_answer = "no answer"
        while time.monotonic() < deadline:
            assert self._process is not None
            if (code := self._process.poll()) is not None:
                raise ServerNotReady(
                    f"{self._describe()} exited with code {code} before it was ready\n"
                    f"stderr:\n{self.stderr()}"
                )
            try:
                with opener.open(ready_url, timeout=2) as response:
                    if response.status == 200:
                        return
                    last_answer = f"status {response.status}"
            except urllib.error.HTTPError as error:
                last_answer = f"status {error.code}"
            except (urllib.error.URLError, OSError) as error:
                last_answer = str(error)
            time.sleep(0.1)
        raise ServerNotReady(
            f"{self._describe()} did not answer 200 at {ready_url} within {self.ready_timeout:g} s "
            f"(last: {last_answer})\nstderr:\n{self.stderr()}"
        )

    def stop(self) -> int | None:
        """SIGTERM the server's PID, then SIGKILL after the grace period; returns its exit code."""
        process = self._process
        if process is None:
            return None
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=self.stop_grace)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
        return process.returncode

    def stdout(self) -> str:
        return _read(self._stdout)

    def stderr(self) -> str:
        return _read(self._stderr)

    def _describe(self) -> str:
        return f"server {' '.join(self.command)!r}"

    def __enter__(self) -> "ServerProcess":
        try:
            return self.start()
        except BaseException:
            self._close_logs()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
        self._close_logs()

    def _close_logs(self) -> None:
        self._stdout.close()
        self._stderr.close()


def _read(file) -> str:
    if file.closed:
        return ""
    file.flush()
    file.seek(0)
    return file.read().decode("utf-8", errors="replace")
