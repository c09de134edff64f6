"""The validation gate behind `kg validate`: files or the store, to a report that names files."""

import tempfile
from collections.abc import Iterable
from pathlib import Path

from kg.errors import InputError
from kg.load import Loader
from kg.locate import locate
from kg.settings import Settings
from kg.store import GraphStore, OxigraphStore
from kg.validation import ValidationReport, Validator

DEFAULT_MAX_RESULTS = 100


def validate_files(
    settings: Settings, validator: Validator, paths: Iterable[Path], max_results: int | None
) -> tuple[ValidationReport, list[InputError]]:
    """Validates files as `kg load` would load them, with the ontology and taxonomies, into a
    throwaway store: the report is exactly the one a load of these files into an empty store
    would give. Files that cannot be read as entries or RDF are returned as errors."""
    with tempfile.TemporaryDirectory(prefix="kg-validate-") as directory:
        loader = Loader(
            settings, OxigraphStore(Path(directory)), validator, max_results=max_results
        )
        sources = loader.vocabulary_sources() + loader.entry_sources(paths)
        report = loader.load(sources, skip_invalid=True)
    # Without a single readable file (nor a vocabulary) there is nothing to validate.
    validation = report.validation or ValidationReport([], validator.engine)
    return validation, report.errors


def validate_store(
    store: GraphStore, validator: Validator, max_results: int | None
) -> ValidationReport:
    dataset = store.reader()
    report = validator.validate_store(dataset).capped(max_results)
    report.results = locate(report.results, dataset)
    return report
