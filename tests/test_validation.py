"""The validation gate as users meet it: `kg validate` and `kg load` on real files and stores."""

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
import rdflib
from conftest import SAMPLE
from junitparser import JUnitXml
from test_cli import kg

from kg.gate import validate_store
from kg.load import Loader
from kg.settings import Settings
from kg.shapes import load_shapes
from kg.store import OxigraphStore
from kg.validation import Engine, Severity, Validator

SEED = SAMPLE / "000_a0a8653dee302dd3.txt"
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")


@pytest.fixture
def conflicting_pages(tmp_path) -> Path:
    """Two pages of one document that print different years: a wrong, not a missing, value."""
    folder = tmp_path / "pages"
    folder.mkdir()
    text = SEED.read_text(encoding="utf-8")
    (folder / "A9001.txt").write_text(text, encoding="utf-8")
    (folder / "A9002.txt").write_text(text.replace("Deyi (2024)", "Deyi (2023)"), encoding="utf-8")
    return folder


def test_validate_sample_conforms_with_warnings_listed(tmp_path):
    run = kg("validate", str(SAMPLE), "--format", "json", store=tmp_path / "unused")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["conforms"] is True
    assert report["violations"] == 0
    assert report["warnings"] == 6  # categories of the taxonomy no page has named yet
    assert {r["severity"] for r in report["results"]} == {"Warning"}


def test_conflicting_pages_fail_validate_naming_files_and_lines(tmp_path, conflicting_pages):
    run = kg("validate", str(conflicting_pages), "--format", "json", store=tmp_path / "unused")
    assert run.returncode == 1
    report = json.loads(run.stdout)
    violations = [r for r in report["results"] if r["severity"] == "Violation"]
    assert len(violations) == 1
    (violation,) = violations
    assert violation["focusNode"].endswith(
        "/document/large-language-model-safety-a-holistic-survey"
    )
    assert violation["resultPath"] == "http://purl.org/dc/terms/issued"
    assert violation["sourceConstraintComponent"] == str(SH.MaxCountConstraintComponent)
    # The source block (title, authors and year) starts on line 15 of both pages.
    assert sorted((s["file"], s["line"]) for s in violation["sources"]) == [
        ("A9001.txt", 15),
        ("A9002.txt", 15),
    ]
    text = kg("validate", str(conflicting_pages), store=tmp_path / "unused")
    assert "in: A9001.txt:15, A9002.txt:15" in text.stdout.decode()
    assert "at most one year" in text.stdout.decode()


def test_load_rejects_violations_and_leaves_the_store_as_it_was(tmp_path, conflicting_pages):
    store = tmp_path / "store"
    assert kg("load", str(SAMPLE), store=store).returncode == 0
    before = sorted((p.name, p.stat().st_size) for p in (store / "current").iterdir())
    live = (store / "current").resolve()
    run = kg("load", str(conflicting_pages), store=store)
    assert run.returncode == 1
    stderr = run.stderr.decode()
    assert "A9001.txt:15" in stderr and "at most one year" in stderr
    assert "nothing committed, store unchanged" in stderr
    assert (store / "current").resolve() == live
    assert sorted((p.name, p.stat().st_size) for p in (store / "current").iterdir()) == before


def test_load_commits_with_warnings(tmp_path):
    run = kg("load", str(SAMPLE), store=tmp_path / "store")
    assert run.returncode == 0
    assert "shapes: 0 violations, 6 warnings" in run.stderr.decode()


def test_report_formats_parse(tmp_path, conflicting_pages):
    args = ("validate", str(conflicting_pages), "--max-results", "3")
    turtle = kg(*args, "--format", "turtle", store=tmp_path / "unused")
    graph = rdflib.Graph().parse(data=turtle.stdout, format="turtle")
    (report,) = graph.subjects(rdflib.RDF.type, SH.ValidationReport)
    assert graph.value(report, SH.conforms).toPython() is False
    assert len(list(graph.objects(report, SH.result))) == 3
    assert (
        str(graph.value(report, rdflib.RDFS.comment)) == "4 more results not shown (--max-results)"
    )
    junit = kg(*args, "--format", "junit", store=tmp_path / "unused")
    suites = JUnitXml.fromstring(junit.stdout.decode())
    cases = {case.name: case for suite in suites for case in suite}
    assert [r.type for r in cases["A9001.txt"].result] == ["sh:Violation"]
    capped = json.loads(kg(*args, "--format", "json", store=tmp_path / "unused").stdout)
    assert (len(capped["results"]), capped["omitted"]) == (3, 4)
    assert (capped["violations"], capped["warnings"]) == (1, 6)


def test_validate_store_and_usage_errors(tmp_path):
    store = tmp_path / "store"
    assert kg("load", str(SAMPLE), store=store).returncode == 0
    run = kg("validate", store=store)
    assert run.returncode == 0
    assert "conforms: 0 violations, 6 warnings" in run.stdout.decode()
    assert "in: mitigation-categories.ttl" in run.stdout.decode()
    assert kg("validate", "--format", "yaml", store=store).returncode == 2
    assert kg("validate", "--engine", "fast", store=store).returncode == 2


def test_not_an_entry_is_an_error_and_the_rest_is_still_validated(tmp_path):
    stray = tmp_path / "notes.txt"
    stray.write_text("Just some notes.\n", encoding="utf-8")
    run = kg("validate", str(stray), str(SEED), "--format", "json", store=tmp_path / "unused")
    assert run.returncode == 1
    assert "notes.txt" in run.stderr.decode()
    assert json.loads(run.stdout)["conforms"] is True


def test_other_base_iri_moves_the_shapes_too(tmp_path):
    run = kg(
        "validate", str(SAMPLE), "--format", "json", store=tmp_path / "unused",
        KG_BASE_IRI="https://example.org/kg/",
    )  # fmt: skip
    report = json.loads(run.stdout)
    assert run.returncode == 0, report
    assert all(r["focusNode"].startswith("https://example.org/kg/") for r in report["results"])
    assert report["warnings"] == 6


def test_corpus_conforms_and_engines_agree(corpus, tmp_path):
    settings = Settings(store=tmp_path / "store")
    store = OxigraphStore(settings.store)
    loader = Loader(settings, store)
    report = loader.load(
        loader.vocabulary_sources() + loader.entry_sources([corpus]), skip_invalid=True
    )
    assert len(report.errors) == 28  # the non-entry pages
    shapes = load_shapes(settings.shapes_dir, settings.base_iri)
    reports = {engine: validate_store(store, Validator(shapes, engine), None) for engine in Engine}
    turbo = reports[Engine.TURBO]
    assert turbo.conforms
    assert Counter(r.shape.value.rsplit("#")[1] for r in turbo.results) == {
        "CataloguedEntry-rmfFunction": 135,
        "CataloguedEntry-actor": 129,
        "CataloguedEntry-lifecycleStage": 123,
        "CataloguedEntry-sourceDocument": 94,
        "CataloguedEntry-quotation": 32,
        "MitigationCategory-label": 6,
    }
    assert {r.key for r in turbo.results} == {r.key for r in reports[Engine.PYSHACL].results}
    # Each warning names the file it comes from.
    assert all(r.sources for r in turbo.results if r.severity == Severity.WARNING)


def test_shapes_folder_without_shapes_is_an_error(tmp_path):
    (tmp_path / "shapes").mkdir()
    run = kg(
        "validate", str(SEED), store=tmp_path / "unused", KG_SHAPES_DIR=str(tmp_path / "shapes")
    )
    assert run.returncode == 1
    assert "no shapes (*.ttl) found" in run.stderr.decode()
    shutil.rmtree(tmp_path / "shapes")
