"""Shared fixtures. Tests that need ../shared skip in a user's clone and fail under CI=true."""

import os
import re
from pathlib import Path

import pytest

from kg.navigator import PageParser
from kg.settings import Settings
from kg.store import OxigraphStore
from kg.taxonomy import load_vocabulary

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared() -> Path:
    if SHARED.is_dir():
        return SHARED
    if os.environ.get("CI") == "true":
        pytest.fail(f"{SHARED} is missing: CI must run with ../shared beside the checkout")
    pytest.skip(f"{SHARED} not present (a user's clone): skipping tests on the shared corpus")


@pytest.fixture(scope="session")
def nexus_wheel() -> Path:
    """The pinned AI Atlas Nexus wheel (requirements-nexus.txt), which `make test` fetches."""
    pin = (ROOT / "requirements-nexus.txt").read_text(encoding="utf-8")
    version = re.search(r"^ai-atlas-nexus==(\S+)", pin, re.MULTILINE)[1]
    wheel = ROOT / ".kg" / "nexus" / f"ai_atlas_nexus-{version}-py3-none-any.whl"
    if wheel.is_file():
        return wheel
    message = f"{wheel} is missing: `make {wheel.relative_to(ROOT)}` fetches it"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def corpus(shared: Path) -> Path:
    return shared / "corpus" / "navigator"


@pytest.fixture(scope="session")
def parser() -> PageParser:
    return PageParser(load_vocabulary(Settings().ontology_dir))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(store=tmp_path / "store")


@pytest.fixture
def store(settings: Settings) -> OxigraphStore:
    return OxigraphStore(settings.store)


@pytest.fixture(scope="session")
def sample_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store loaded from data/sample, built once; copy it before writing to it."""
    from kg.load import Loader

    directory = tmp_path_factory.mktemp("sample") / "store"
    loader = Loader(Settings(store=directory), OxigraphStore(directory))
    report = loader.load(loader.vocabulary_sources() + loader.entry_sources([SAMPLE]))
    assert report.committed and not report.errors
    return directory


@pytest.fixture(scope="session")
def hostile_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample pages and the page made to attack the site's HTML (tests/site_store.py)."""
    from site_store import HOSTILE, load_store

    return load_store(tmp_path_factory.mktemp("hostile") / "store", SAMPLE, HOSTILE)


@pytest.fixture(scope="session")
def nexus_store(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample pages, three corpus pages whose entries (and two of whose documents) are AI Atlas
    Nexus records too, then the Nexus data (tests/site_store.py)."""
    from site_store import load_nexus_store

    return load_nexus_store(tmp_path_factory.mktemp("nexus") / "store", shared)
