"""Starting `kg serve` as a real process on 127.0.0.1 for tests (see server_process.py)."""

import os
import shutil
import sys
from pathlib import Path

import httpx
from server_process import ServerProcess


def kg_server(
    store: Path | str, *options: str, env: dict[str, str] | None = None
) -> ServerProcess:
    """`kg serve` over `store` (a directory or an engine's URL) with extra options; a context
    manager (stopped by its PID)."""
    command = [sys.executable, "-m", "kg", "--store", str(store), "serve"]
    command += ["--host", "127.0.0.1", "--port", "{port}", *options]
    return ServerProcess(command, env={**os.environ, **(env or {})})


def copy_store(source: Path, target: Path) -> Path:
    """A private copy of a store (generations and the `current` link), for tests that write."""
    shutil.copytree(source, target, symlinks=True)
    return target


def client(server: ServerProcess) -> httpx.Client:
    """An HTTP client for `server` that ignores proxy settings of the environment."""
    return httpx.Client(base_url=server.url, timeout=60, trust_env=False)
