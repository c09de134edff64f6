"""SPARQL engines for the store contract tests, started on 127.0.0.1 with a temporary database
and stopped by PID: `oxigraph serve` (PyPI oxigraph, a test dependency) and Virtuoso (Debian
virtuoso-opensource-7-bin, which .ci/run installs).

    with engine("virtuoso", tmp_path) as server:  # or oxigraph(tmp_path)
        settings = remote_settings(server, tmp_path)
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from server_process import ServerProcess, free_port

from kg.settings import Settings

#: The engines the remote-store tests run on; the contract tests also run on Oxigraph with
#: a union default graph (KG_STORE_UNION_DEFAULT_GRAPH).
ENGINES = ("oxigraph", "virtuoso")
CONTRACT_ENGINES = (*ENGINES, "oxigraph-union")


def _command(name: str, installed_by: str) -> str:
    """A command the tests need; a missing one fails under CI and skips elsewhere."""
    found = Path(sys.executable).with_name(name)
    if found.exists():
        return str(found)
    if (on_path := shutil.which(name)) is not None:
        return on_path
    if os.environ.get("CI"):
        pytest.fail(f"no {name} command: {installed_by} installs it")
    pytest.skip(f"no {name} command ({installed_by})")


class Engine(ServerProcess):
    """A SPARQL engine; `kind` is KG_STORE's scheme for it."""

    kind = "sparql"
    query_path = "/query"
    update_path = "/update"
    union_default_graph = False

    @property
    def store_url(self) -> str:
        return f"{self.kind}+{self.url}"

    def query(self, query: str) -> list[dict]:
        """The bindings of a SELECT asked of the engine directly (not through kg)."""
        answer = httpx.post(
            self.url + self.query_path,
            data={"query": query},
            headers={"Accept": "application/sparql-results+json"},
            timeout=60,
        )
        assert answer.status_code == 200, answer.text
        return answer.json()["results"]["bindings"]

    def update(self, update: str) -> None:
        answer = httpx.post(
            self.url + self.update_path,
            content=update.encode(),
            headers={"Content-Type": "application/sparql-update"},
        )
        assert answer.is_success, answer.text


def engine(name: str, directory: Path, **options) -> Engine:
    """The engine called `name` (one of CONTRACT_ENGINES), on a database of its own in
    `directory` (options: Virtuoso's)."""
    if name == "oxigraph-union":
        union = oxigraph(directory, "--union-default-graph")
        union.union_default_graph = True
        return union
    if name == "virtuoso":
        return Virtuoso(directory, **options)
    return oxigraph(directory)


def oxigraph(directory: Path, *options: str) -> Engine:
    """An Oxigraph server on a database of its own in `directory` (a context manager), with
    more `oxigraph serve` options."""
    command = [_command("oxigraph", "`pip install -e .[test]`"), "serve", *options]
    command += ["--location", str(directory / "engine"), "--bind", "127.0.0.1:{port}"]
    return Engine(command, ready_path="/query?query=ASK%7B%7D")


class Virtuoso(Engine):
    """Virtuoso on a database in `directory`, its SPARQL service allowed to update (as the
    anonymous user: the tests' engine listens on 127.0.0.1 only)."""

    kind = "virtuoso"
    query_path = update_path = "/sparql"

    def __init__(self, directory: Path, buffers: int = 20_000) -> None:
        self.buffers = buffers  # 8 KiB pages of memory (Virtuoso's advice: 85,000 a GiB)
        self.directory = directory / "virtuoso"
        self.sql_port = free_port()
        ini = self.directory / "virtuoso.ini"
        command = [_command("virtuoso-t", "apt virtuoso-opensource-7-bin"), "+foreground"]
        super().__init__(
            [*command, "+configfile", str(ini)],
            cwd=self.directory,
            ready_path="/sparql?query=ASK%7B%7D",
            ready_timeout=60,
            stop_grace=20,
        )

    def start(self) -> "Virtuoso":
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "virtuoso.ini").write_text(
            VIRTUOSO_INI.format(
                directory=self.directory, http=self.port, sql=self.sql_port, buffers=self.buffers
            )
        )
        super().start()
        grant = (
            "GRANT SPARQL_UPDATE TO \"SPARQL\"; DB.DBA.RDF_DEFAULT_USER_PERMS_SET ('nobody', 7);"
        )
        isql = [_command("isql-vt", "apt virtuoso-opensource-7-bin"), f"127.0.0.1:{self.sql_port}"]
        subprocess.run([*isql, "dba", "dba", f"exec={grant}"], check=True, capture_output=True)
        return self


#: A small Virtuoso: its database, logs and lock in one directory, listening on 127.0.0.1.
VIRTUOSO_INI = """\
[Database]
DatabaseFile = {directory}/virtuoso.db
ErrorLogFile = {directory}/virtuoso.log
LockFile = {directory}/virtuoso.lck
TransactionFile = {directory}/virtuoso.trx
xa_persistent_file = {directory}/virtuoso.pxa
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {directory}/virtuoso-temp.db
TransactionFile = {directory}/virtuoso-temp.trx
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql}
NumberOfBuffers = {buffers}
MaxDirtyBuffers = {buffers}
DirsAllowed = ., {directory}
CheckpointInterval = 60

[HTTPServer]
ServerPort = 127.0.0.1:{http}
ServerRoot = {directory}
MaxClientConnections = 5
ServerThreads = 5

[SPARQL]
ResultSetMaxRows = 10000000
MaxQueryExecutionTime = 300
"""


def remote_settings(engine: Engine, directory: Path, **overrides) -> Settings:
    """Settings of kg on the engine, its working directory in `directory`."""
    if engine.union_default_graph:
        overrides.setdefault("store_union_default_graph", True)
    overrides.setdefault("store", engine.store_url)
    return Settings(store_workdir=directory / "kg-remote", **overrides)


def remote_env(engine: Engine, directory: Path) -> dict[str, str]:
    """The environment of a kg process on the engine."""
    env = {
        **os.environ,
        "KG_STORE": engine.store_url,
        "KG_STORE_WORKDIR": str(directory / "kg-remote"),
    }
    if engine.union_default_graph:  # else what the engine kind does (Virtuoso's is a union)
        env["KG_STORE_UNION_DEFAULT_GRAPH"] = "true"
    return env
