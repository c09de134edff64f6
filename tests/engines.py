"""SPARQL engines for the store contract tests, started on 127.0.0.1 with a temporary database
and stopped by PID: `oxigraph serve` (PyPI oxigraph, a test dependency).

    with oxigraph(tmp_path) as engine:
        settings = remote_settings(engine, tmp_path)
"""

import os
import shutil
import sys
from pathlib import Path

import pytest
from server_process import ServerProcess

from kg.settings import Settings

#: The engines the contract tests run on besides the embedded store.
ENGINES = ("oxigraph",)


def oxigraph_binary() -> str:
    """The `oxigraph` command of the test environment (PyPI oxigraph); a missing one fails
    under CI and skips elsewhere."""
    found = Path(sys.executable).with_name("oxigraph")
    if found.exists():
        return str(found)
    if (on_path := shutil.which("oxigraph")) is not None:
        return on_path
    if os.environ.get("CI"):
        pytest.fail("no oxigraph command: `pip install -e .[test]` installs PyPI oxigraph")
    pytest.skip("no oxigraph command (PyPI oxigraph)")


def oxigraph(directory: Path) -> ServerProcess:
    """An Oxigraph server on a database of its own in `directory` (a context manager)."""
    command = [oxigraph_binary(), "serve", "--location", str(directory / "engine")]
    command += ["--bind", "127.0.0.1:{port}"]
    return ServerProcess(command, ready_path="/query?query=ASK%7B%7D")


def remote_settings(engine: ServerProcess, directory: Path, **overrides) -> Settings:
    """Settings of kg on the engine, its working directory in `directory`."""
    store = "sparql+" + engine.url
    return Settings(store=store, store_workdir=directory / "kg-remote", **overrides)


def remote_env(engine: ServerProcess, directory: Path) -> dict[str, str]:
    """The environment of a kg process on the engine."""
    return {
        **os.environ,
        "KG_STORE": "sparql+" + engine.url,
        "KG_STORE_WORKDIR": str(directory / "kg-remote"),
    }
