"""Settings read from `KG_*` environment variables (and CLI options that override them)."""

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The project root when kg runs from its source tree (the editable install the README uses).
PROJECT_ROOT = Path(__file__).resolve().parents[2]

DEFAULT_BASE_IRI = "https://w3id.org/airm-kg/"
MIN_TOKEN_LENGTH = 12


class Settings(BaseSettings):
    """Where the graph lives and how its IRIs are spelled."""

    model_config = SettingsConfigDict(env_prefix="KG_", frozen=True)

    #: Base of every data IRI (mitigations, documents, taxonomies, graphs). Ends with '/'.
    base_iri: str = DEFAULT_BASE_IRI
    #: Directory of the persistent store.
    store: Path = Path(".kg/store")
    #: Directory holding the ontology and its SKOS taxonomies.
    ontology_dir: Path = PROJECT_ROOT / "ontology"
    #: Directory holding the SHACL shapes every load is validated against.
    shapes_dir: Path = PROJECT_ROOT / "shapes"
    #: SHACL engine: "turbo" (pyshacl-turbo, fast) or "pyshacl" (the reference).
    shacl_engine: Literal["turbo", "pyshacl"] = "turbo"

    # --- kg serve -----------------------------------------------------------------------------
    #: Address the server binds to; loopback unless you mean to publish it.
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    #: Bearer token that enables SPARQL Update; without one the endpoint is read-only.
    update_token: SecretStr | None = None
    #: Seconds a query (or an update) may run before its process is stopped (answer 503).
    query_timeout: float = Field(default=10.0, gt=0)
    #: Rows (SELECT) or triples (CONSTRUCT, DESCRIBE) a query answer holds at most.
    max_rows: int = Field(default=100_000, ge=1)
    #: Bytes a request body may have (answer 413 above).
    max_body: int = Field(default=1_048_576, ge=1)
    #: Processes that run queries (one query each at a time).
    query_workers: int = Field(default=max(2, os.cpu_count() or 1), ge=1)
    #: Endpoints SERVICE may call, as a JSON list of IRIs; none by default.
    service_allowlist: list[str] = []
    #: Bytes of answers kept for repeated queries.
    cache_bytes: int = Field(default=64 * 1024 * 1024, ge=0)

    @field_validator("update_token")
    @classmethod
    def _token_is_not_guessable(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_TOKEN_LENGTH:
            raise ValueError(
                f"KG_UPDATE_TOKEN must have at least {MIN_TOKEN_LENGTH} characters "
                "(an empty one would let anyone write)"
            )
        return value

    @field_validator("base_iri")
    @classmethod
    def _base_iri_is_a_namespace(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")) or not value.endswith("/"):
            raise ValueError(f"KG_BASE_IRI must be an http(s) IRI ending with '/', got {value!r}")
        return value
