"""The data-quality checks of queries/checks/: each triggered by its own fixture, none by good data.

A fixture `tests/checks/<slug>.trig` is a dataset in kg's layout (one named graph per loaded
file, naming it with kg:sourceFile) stating exactly one violation; its header names the focus
and the files the report must give:

    # focus: <https://w3id.org/airm-kg/mitigation/A9101>
    # files: A9101.txt

`dataset_of` adds the ontology and taxonomies, as every load does, and derives the default graph
as the union of the named graphs, as the store does.
"""

import re
import shutil
from pathlib import Path

import pytest
from conftest import ROOT, SAMPLE
from pyoxigraph import DefaultGraph, Literal, NamedNode, Quad, RdfFormat, Store

from kg.checks import (
    CheckReport,
    check_files,
    check_store,
    checks_dir,
    load_checks,
    render_text,
    run_checks,
)
from kg.errors import QueryError
from kg.named_queries import QueryFileError
from kg.settings import Settings
from kg.store import OxigraphStore
from kg.vocab import KG, Iris

CHECKS = ROOT / "queries" / "checks"
FIXTURES = Path(__file__).parent / "checks"
EXPECTED_CHECKS = 5
ONTOLOGY = ROOT / "ontology"
BASE = "https://w3id.org/airm-kg/"
_HEADER = re.compile(r"#\s*(focus|files)\s*:\s*(.*)")


def slugs() -> list[str]:
    return [check.slug for check in load_checks(CHECKS)]


def dataset_of(trig: Path | str) -> Store:
    """The fixture's named graphs, the vocabulary graphs, and their union as default graph."""
    store = Store()
    if isinstance(trig, Path):
        store.load(path=str(trig), format=RdfFormat.TRIG)
    else:
        store.load(trig.encode(), format=RdfFormat.TRIG)
    assert not list(store.quads_for_pattern(None, None, None, DefaultGraph())), (
        "a fixture states every triple in the named graph of the file it comes from"
    )
    for path in [ONTOLOGY / "kg.ttl", *sorted((ONTOLOGY / "taxonomies").glob("*.ttl"))]:
        graph = Iris().vocabulary_graph(path.stem)
        store.load(path=str(path), format=RdfFormat.TURTLE, to_graph=graph)
        store.add(Quad(graph, KG.sourceFile, Literal(path.name), graph))
    store.update("INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }")
    return store


def expectation(fixture: Path) -> tuple[NamedNode, tuple[str, ...]]:
    header = {}
    for line in fixture.read_text(encoding="utf-8").splitlines():
        if match := _HEADER.match(line):
            header[match[1]] = match[2].strip()
    return NamedNode(header["focus"].strip("<>")), tuple(sorted(header["files"].split()))


def rows_by_check(report: CheckReport) -> dict[str, list[tuple]]:
    """Failing checks and their rows as (focus, files)."""
    return {
        result.slug: [(row.focus, row.files) for row in result.rows] for result in report.failed
    }


def test_the_checks_collected():
    collected = slugs()
    assert len(collected) == EXPECTED_CHECKS
    assert collected == [
        "duplicate-quotation-violation",
        "heading-cycle-violation",
        "listed-code-violation",
        "same-as-category-violation",
        "unknown-category-violation",
    ]
    assert checks_dir(Settings()) == CHECKS


def test_every_check_has_a_fixture_and_every_fixture_a_check():
    fixtures = sorted(path.stem for path in FIXTURES.glob("*.trig"))
    assert fixtures == slugs(), "each queries/checks/<slug>.rq needs tests/checks/<slug>.trig"


@pytest.mark.parametrize("slug", slugs())
def test_each_fixture_triggers_exactly_its_own_check(slug: str):
    fixture = FIXTURES / f"{slug}.trig"
    focus, files = expectation(fixture)
    report = run_checks(dataset_of(fixture), CHECKS)
    assert rows_by_check(report) == {slug: [(focus, files)]}
    assert len(report.results) == EXPECTED_CHECKS


def test_the_rows_explain_the_violation():
    report = run_checks(dataset_of(FIXTURES / "listed-code-violation.trig"), CHECKS)
    (result,) = report.failed
    assert result.columns[0] == "focus"
    (row,) = result.rows
    values = {name: term.value for name, term in row.values.items() if term is not None}
    assert values == {
        "focus": BASE + "mitigation/ai-audits/evaluations/third-party-audits",
        "code": "2.2.3",
        "page": BASE + "mitigation/A9401",
        "pageCode": "2.2.1",
        "link": "quotation",
        "pageFile": "A9401.txt",
        "category": BASE + "taxonomy/mitigation/2.2.3",
        "pageCategory": BASE + "taxonomy/mitigation/2.2.1",
    }


def test_a_listed_entry_linked_by_same_as_is_compared_with_its_page():
    """owl:sameAs between a page and a listed entry of another category breaks both rules."""
    report = run_checks(
        dataset_of(
            f"""
            BASE <{BASE}>
            PREFIX kg: <https://w3id.org/airm-kg/ontology#>
            PREFIX owl: <http://www.w3.org/2002/07/owl#>
            PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
            <graph/file/A9501.txt> {{
              <graph/file/A9501.txt> kg:sourceFile "A9501.txt" .
              <mitigation/A9501> kg:navigatorId "A9501" ; kg:category <taxonomy/mitigation/1.1.1> .
            }}
            <graph/file/A9502.txt> {{
              <graph/file/A9502.txt> kg:sourceFile "A9502.txt" .
              <mitigation/doc/data> rdfs:label "Data"@en ; kg:category <taxonomy/mitigation/1.1> .
            }}
            <graph/file/links.ttl> {{
              <graph/file/links.ttl> kg:sourceFile "links.ttl" .
              <mitigation/A9501> owl:sameAs <mitigation/doc/data> .
            }}
            """
        ),
        CHECKS,
    )
    page, listed = NamedNode(BASE + "mitigation/A9501"), NamedNode(BASE + "mitigation/doc/data")
    assert rows_by_check(report) == {
        # the focus as subject: the page that lists it (links.ttl states it as object only)
        "listed-code-violation": [(listed, ("A9502.txt",))],
        "same-as-category-violation": [(page, ("A9501.txt", "links.ttl"))],
    }
    (listed_code,) = [r for r in report.failed if r.slug == "listed-code-violation"]
    assert listed_code.rows[0].values["link"] == Literal("owl:sameAs")


def test_the_text_report_names_the_check_the_rows_and_the_files():
    report = run_checks(dataset_of(FIXTURES / "same-as-category-violation.trig"), CHECKS)
    lines = render_text(report).splitlines()
    assert "FAIL  same-as-category-violation: Same entry, different categories (1 row)" in lines
    assert f"  <{BASE}mitigation/A9301>" in lines
    assert f"    sameAs: <{BASE}mitigation/c0123456789ab>" in lines
    assert '    code: "2.2.2"' in lines and '    otherCode: "2.2.3"' in lines
    assert "    in: A9301.txt, same-entries.ttl" in lines
    assert "ok    heading-cycle-violation: Heading cycles" in lines
    assert lines[-1] == "failed: 1 of 5 checks, 1 row"


def test_the_sample_data_passes_every_check(tmp_path: Path, sample_store: Path):
    report, errors = check_files(Settings(store=tmp_path / "unused"), [SAMPLE])
    assert errors == []
    assert rows_by_check(report) == {} and report.passed
    assert render_text(report).splitlines()[-1] == "passed: 5 checks, no rows"
    assert check_store(OxigraphStore(sample_store)).passed


def test_the_checks_follow_the_base_iri(tmp_path: Path):
    """`<taxonomy/mitigation>` is relative: under another base the taxonomy moves with the data."""
    settings = Settings(store=tmp_path / "unused", base_iri="http://example.org/kg/")
    report, errors = check_files(settings, [SAMPLE])
    assert errors == [] and report.passed


#: What the shared corpus violates: nothing since the identity derivation links the children of
#: linked entries (A1516 and A1525's "Perception-level output" list the same four children, which
#: the duplicate-quotation check found when they were two resources each).
CORPUS_ROWS: dict[str, list] = {}


@pytest.mark.shared
def test_the_corpus_passes_every_check_but_its_known_rows(corpus: Path, tmp_path: Path):
    report, errors = check_files(Settings(store=tmp_path / "unused"), [corpus])
    assert errors, "the corpus holds pages that are not entries; they are reported, not checked"
    found = {
        result.slug: [
            {name: term.value for name, term in row.values.items()} | {"files": row.files}
            for row in result.rows
        ]
        for result in report.failed
    }
    assert found == CORPUS_ROWS


def test_check_files_names_the_files_of_each_row(tmp_path: Path):
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    (data / "A9101.ttl").write_text(
        f"<{BASE}mitigation/A9101> <https://w3id.org/airm-kg/ontology#category> "
        f"<{BASE}taxonomy/mitigation/4.1> .\n",
        encoding="utf-8",
    )
    broader = "<http://www.w3.org/2004/02/skos/core#broader>"
    (data / "headings.nt").write_text(
        f"<{BASE}heading/d/a> {broader} <{BASE}heading/d/b> .\n"
        f"<{BASE}heading/d/b> {broader} <{BASE}heading/d/a> .\n",
        encoding="utf-8",
    )
    (data / "notes.txt").write_text("not an entry page\n", encoding="utf-8")
    report, errors = check_files(Settings(store=tmp_path / "unused"), [data])
    assert [Path(error.source).name for error in errors] == ["notes.txt"]
    assert rows_by_check(report) == {
        "heading-cycle-violation": [(NamedNode(BASE + "heading/d/a"), ("headings.nt",))],
        "unknown-category-violation": [(NamedNode(BASE + "mitigation/A9101"), ("A9101.ttl",))],
    }
    text = render_text(report)
    assert "    in: headings.nt\n" in text and "    in: A9101.ttl\n" in text


def test_a_folder_without_checks_is_an_error(tmp_path: Path):
    with pytest.raises(QueryFileError, match="no checks"):
        run_checks(Store(), tmp_path / "missing")


@pytest.mark.parametrize(
    ("name", "text", "error"),
    [
        ("focus.rq", "# title: t\n# question: q?\nSELECT ?focus {}", QueryFileError),
        ("x-violation.rq", "# question: q?\nSELECT ?focus {}", QueryFileError),
        (
            "x-violation.rq",
            "# title: t\n# question: q?\n# params: ?code (notation) a code\nSELECT ?focus {}",
            QueryFileError,
        ),
        ("x-violation.rq", "# title: t\n# question: q?\nSELECT ?other ?focus {}", QueryFileError),
        ("x-violation.rq", "# title: t\n# question: q?\nASK {}", QueryFileError),
        ("x-violation.rq", "# title: t\n# question: q?\nSELECT ?focus {", QueryError),
    ],
    ids=["name", "header", "params", "focus-first", "select", "syntax"],
)
def test_a_malformed_check_is_an_error_naming_its_file(tmp_path, name, text, error):
    (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(error, match=name):
        run_checks(Store(), tmp_path)
