"""Stores for the site's tests: the sample pages plus a page made to attack the HTML (every field
holds markup, a template expression and a javascript: URL), loaded under a chosen base IRI."""

from pathlib import Path

from kg.load import Loader
from kg.settings import DEFAULT_BASE_IRI, Settings
from kg.store import OxigraphStore

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
HOSTILE = ROOT / "tests" / "fixtures" / "site" / "hostile.txt"
#: What the hostile page puts in every text field.
ATTACKS = ["<script>", '"><img src=x onerror=alert(1)>', "{{7*7}}", "javascript:alert(1)"]


def load_store(
    directory: Path, *inputs: Path, base_iri: str = DEFAULT_BASE_IRI, rejects: bool = False
) -> Path:
    """Loads `inputs` (files or folders of pages); `rejects`: files that are not entry pages
    (the corpus has some) are left out instead of failing the test."""
    settings = Settings(store=directory, base_iri=base_iri)
    loader = Loader(settings, OxigraphStore(directory))
    sources = loader.vocabulary_sources() + loader.entry_sources(list(inputs))
    report = loader.load(sources, skip_invalid=rejects)
    assert report.committed and (rejects or not report.errors), report.errors[:3]
    return directory
