"""The store a setting names: the embedded store in a directory, or a remote SPARQL engine."""

from pathlib import Path

from kg.settings import Settings
from kg.store import GraphStore, OxigraphStore


def open_store(settings: Settings) -> GraphStore:
    if settings.is_remote:
        from kg.remote.store import RemoteStore  # noqa: PLC0415 (only a remote store needs it)

        return RemoteStore(settings)
    return OxigraphStore(Path(settings.store).resolve())
