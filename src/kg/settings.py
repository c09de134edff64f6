"""Settings read from `KG_*` environment variables (and CLI options that override them)."""

from pathlib import Path
from typing import Literal

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The project root when kg runs from its source tree (the editable install the README uses).
PROJECT_ROOT = Path(__file__).resolve().parents[2]

DEFAULT_BASE_IRI = "https://w3id.org/airm-kg/"


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

    @field_validator("base_iri")
    @classmethod
    def _base_iri_is_a_namespace(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")) or not value.endswith("/"):
            raise ValueError(f"KG_BASE_IRI must be an http(s) IRI ending with '/', got {value!r}")
        return value
