"""Settings read from `KG_*` environment variables (and CLI options that override them)."""

import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The project root when kg runs from its source tree (the editable install the README uses).
PROJECT_ROOT = Path(__file__).resolve().parents[2]

#: A remote store's URL scheme names the engine kind (kg.remote.endpoints.ENGINES).
REMOTE_SCHEMES = ("sparql+http://", "sparql+https://", "virtuoso+http://", "virtuoso+https://")
DEFAULT_BASE_IRI = "https://w3id.org/airm-kg/"
DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024
MIN_TOKEN_LENGTH = 12
#: Bytes an update token file may have.
TOKEN_FILE_BYTES = 4096


class Settings(BaseSettings):
    """Where the graph lives and how its IRIs are spelled."""

    # Errors name the setting and the rule, never the value given: it may be the update token.
    model_config = SettingsConfigDict(env_prefix="KG_", frozen=True, hide_input_in_errors=True)

    #: Base of every data IRI (mitigations, documents, taxonomies, graphs). Ends with '/'.
    base_iri: str = DEFAULT_BASE_IRI
    #: The store: a directory (the embedded store), or a SPARQL engine as
    #: `sparql+http(s)://HOST:PORT[/PATH]`, whose query, update and graph store services are at
    #: PATH/query, PATH/update and PATH/store (Oxigraph server's layout), or as
    #: `virtuoso+http(s)://HOST:PORT[/PATH]` (Virtuoso: PATH/sparql), unless the store_*_url
    #: settings say otherwise (see kg.remote).
    store: str = ".kg/store"
    #: Overrides of the remote engine's service URLs.
    store_query_url: str | None = None
    store_update_url: str | None = None
    store_graph_url: str | None = None
    #: Credentials for the remote engine: a user and password (HTTP Basic) or a bearer token.
    store_user: str | None = None
    store_password: SecretStr | None = None
    store_token: SecretStr | None = None
    #: Whether the engine's default graph is the union of all its graphs (Virtuoso always;
    #: `oxigraph serve --union-default-graph`): kg then keeps its default graph in a graph of its
    #: own and names its dataset in every query. Unset: what the engine kind does by default.
    store_union_default_graph: bool | None = None
    #: Seconds kg waits for the remote engine's answer to one read request.
    store_timeout: float = Field(default=300.0, gt=0)
    #: Seconds kg waits for the remote engine's answer to one write request: the engine answers
    #: a load's upload or move only once it has applied it, which takes minutes for millions of
    #: quads (bench/backends_bench.py).
    store_write_timeout: float = Field(default=3600.0, gt=0)
    #: Where kg keeps its own files for a remote store: its working copy (what a load is
    #: validated and derived on before it is sent), exports, the search index.
    store_workdir: Path = Path(".kg/remote")
    #: Directory holding the ontology and its SKOS taxonomies.
    ontology_dir: Path = PROJECT_ROOT / "ontology"
    #: Directory holding the SHACL shapes every load is validated against.
    shapes_dir: Path = PROJECT_ROOT / "shapes"
    #: Directory of the named queries (`*.rq`) and of the data-quality checks (`checks/`).
    queries_dir: Path = PROJECT_ROOT / "queries"
    #: SHACL engine: "turbo" (pyshacl-turbo, fast) or "pyshacl" (the reference).
    shacl_engine: Literal["turbo", "pyshacl"] = "turbo"
    #: Bytes an input file of `kg load`, `parse` or `validate` may have: a file is read whole,
    #: so a larger one (or one that never ends) is refused rather than filling memory.
    max_file_bytes: int = Field(default=DEFAULT_MAX_FILE_BYTES, ge=1)

    # --- kg serve -----------------------------------------------------------------------------
    #: Address the server binds to; loopback unless you mean to publish it.
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    #: Bearer token that enables SPARQL Update; without one the endpoint is read-only.
    update_token: SecretStr | None = None
    #: A file holding the update token (instead of update_token): unlike a command-line option,
    #: it is not shown to other local users by `ps`. A trailing newline is not part of the token.
    update_token_file: Path | None = None
    #: Seconds a query (or an update) may run before its process is stopped (answer 503).
    query_timeout: float = Field(default=10.0, gt=0)
    #: Rows (SELECT) or triples (CONSTRUCT, DESCRIBE) a query answer holds at most.
    max_rows: int = Field(default=100_000, ge=1)
    #: Bytes a query answer may have; a larger one is refused (413) as soon as it passes this.
    max_answer_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    #: Bytes of address space each worker process may map (RLIMIT_AS): a query that needs more
    #: fails alone instead of taking the machine's memory. Includes the 1 GiB task stack.
    worker_memory: int = Field(default=4 * 1024**3, ge=2 * 1024**3)
    #: Bytes a request body may have (answer 413 above).
    max_body: int = Field(default=1_048_576, ge=1)
    #: Processes that run queries (one query each at a time).
    query_workers: int = Field(default=max(2, os.cpu_count() or 1), ge=1)
    #: Endpoints SERVICE may call, as a JSON list of IRIs; none by default.
    service_allowlist: list[str] = []
    #: Bytes of answers kept for repeated queries.
    cache_bytes: int = Field(default=64 * 1024 * 1024, ge=0)
    #: Seconds a connection may stay open, idle, after an answer before it is closed.
    keep_alive: float = Field(default=5.0, gt=0)
    #: Seconds a client has to send a request's line and headers, from the connection's opening
    #: (or from the request's first byte on a kept-alive connection); then the connection closes.
    header_timeout: float = Field(default=10.0, gt=0)
    #: Seconds a request body may take to arrive in full after its headers (answer 408 after).
    body_timeout: float = Field(default=30.0, gt=0)
    #: Connections served at once; a request on one more is answered 503 and its connection closed.
    max_connections: int = Field(default=512, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _token_from_its_file(cls, data: Any) -> Any:
        """Reads update_token_file into update_token (which then must not be given too)."""
        if not isinstance(data, dict) or data.get("update_token_file") in (None, ""):
            return data
        if data.get("update_token") is not None:
            raise ValueError(
                "give the update token either directly (KG_UPDATE_TOKEN, --update-token) "
                "or in a file (KG_UPDATE_TOKEN_FILE, --update-token-file), not both"
            )
        return {**data, "update_token": read_token_file(Path(data["update_token_file"]))}

    @field_validator("update_token")
    @classmethod
    def _token_is_not_guessable(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_TOKEN_LENGTH:
            raise ValueError(
                f"KG_UPDATE_TOKEN must have at least {MIN_TOKEN_LENGTH} characters "
                "(an empty one would let anyone write)"
            )
        return value

    @field_validator("store", mode="before")
    @classmethod
    def _store_is_a_directory_or_engine(cls, value: Any) -> str:
        value = str(value) if isinstance(value, Path) else value
        if not value:
            raise ValueError("KG_STORE must name a directory or a SPARQL engine's URL")
        if "://" in value and not value.startswith(REMOTE_SCHEMES):
            raise ValueError(
                "KG_STORE must be a directory or a sparql+http(s):// (Oxigraph server's layout) "
                f"or virtuoso+http(s):// URL, not a {value.split('://', 1)[0]}:// URL"
            )
        return value

    @property
    def is_remote(self) -> bool:
        return self.store.startswith(REMOTE_SCHEMES)

    @property
    def store_dir(self) -> Path:
        """Where kg's own files are: the store directory, or a remote store's working
        directory (one per engine, so that two engines never share a working copy)."""
        if not self.is_remote:
            return Path(self.store)
        engine = self.store.split("://", 1)[1].rstrip("/")
        return self.store_workdir / re.sub(r"[^A-Za-z0-9.-]+", "_", engine)

    @field_validator("base_iri")
    @classmethod
    def _base_iri_is_a_namespace(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")) or not value.endswith("/"):
            raise ValueError(f"KG_BASE_IRI must be an http(s) IRI ending with '/', got {value!r}")
        return value


def read_token_file(path: Path) -> SecretStr:
    """The token a file holds, without its trailing newline; ValueError naming the file if it
    cannot be read or holds a guessable token."""
    from kg.errors import InputError
    from kg.inputs import read_input  # which reads settings' defaults: imported when used

    try:
        # A regular file of a few bytes: a FIFO or /dev/zero named here must not hang or fill.
        token = read_input(path, TOKEN_FILE_BYTES).decode("utf-8").rstrip("\r\n")
    except (InputError, UnicodeDecodeError) as error:
        reason = error.reason if isinstance(error, InputError) else "not UTF-8 text"
        raise ValueError(f"cannot read the update token file {path}: {reason}") from None
    if len(token) < MIN_TOKEN_LENGTH:
        held = "is empty" if not token else f"holds {len(token)} characters"
        raise ValueError(
            f"the update token file {path} {held}; a token needs at least "
            f"{MIN_TOKEN_LENGTH} characters"
        )
    return SecretStr(token)
