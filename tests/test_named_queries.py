"""Every named query of queries/ runs on the shared corpus with its default parameters and gives
exactly tests/expected/<slug>.srj (SPARQL JSON results, compared row by row as RDF terms, in
order: the queries order their rows fully). Then the required queries' parameters: another value
gives the answer it should, a bad one is a ParameterError naming the parameter.

`KG_WRITE_EXPECTED=1` writes a missing or different expected file from the corpus and still fails
the test, so that no run passes while writing; review the file, then run again without it.
"""

import os
from collections.abc import Collection

import pytest
from conftest import ROOT
from pyoxigraph import QueryResultsFormat, parse_query_results
from site_store import load_store

from kg.named_queries import NamedQuery, ParameterError, load_queries
from kg.settings import Settings
from kg.store import OxigraphStore
from kg.taxonomy import load_vocabulary

QUERIES_DIR = ROOT / "queries"
EXPECTED_DIR = ROOT / "tests" / "expected"
QUERIES = load_queries(QUERIES_DIR)
#: How many named queries there are; a query added or lost must change this number.
EXPECTED_QUERIES = 20
#: The queries issue 11 requires: their parameters and first result columns.
REQUIRED = {
    "mitigations-in-category": (["code"], ["mitigation", "code"]),
    "coverage-category-stage": ([], ["category", "stage", "count"]),
    "documents-by-mitigations": ([], ["document", "title", "count"]),
    "stage-gaps": (["stage"], ["category"]),
    "mitigations-from-file": (["file"], ["mitigation"]),
}
STAGE = "https://w3id.org/airm-kg/taxonomy/stage/"

Row = tuple


@pytest.fixture(scope="module")
def corpus_store(corpus, tmp_path_factory) -> OxigraphStore:
    directory = tmp_path_factory.mktemp("named-queries") / "store"
    return OxigraphStore(load_store(directory, corpus, rejects=True))


@pytest.fixture(scope="module")
def notations() -> Collection[str]:
    return load_vocabulary(Settings().ontology_dir).categories.keys()


def table(solutions) -> tuple[list[str], list[Row]]:
    """The variables and the rows (tuples of terms, None where unbound) of SELECT results."""
    names = [variable.value for variable in solutions.variables]
    return names, [tuple(row[name] for name in names) for row in solutions]


def answer(store: OxigraphStore, query: NamedQuery, notations, **params: str):
    return table(store.query(query.bind(params, notations)))


def column(rows: list[Row], names: list[str], name: str) -> list:
    return [row[names.index(name)] for row in rows]


# --- the collection -------------------------------------------------------------------------


def test_every_named_query_is_collected():
    assert len(QUERIES) == EXPECTED_QUERIES, sorted(QUERIES)
    assert set(REQUIRED) <= set(QUERIES)


def test_every_expected_answer_has_its_query():
    orphans = sorted(path.name for path in EXPECTED_DIR.glob("*.srj") if path.stem not in QUERIES)
    assert orphans == [], "expected answers without a query in queries/"


@pytest.mark.parametrize("slug", sorted(QUERIES))
def test_query_is_ordered_and_runs_without_arguments(slug):
    query = QUERIES[slug]
    assert "ORDER BY" in query.text, f"{slug}: rows must be fully ordered"
    assert all(param.default is not None for param in query.params), f"{slug}: a default"


@pytest.mark.parametrize("slug", sorted(REQUIRED))
def test_required_query_has_its_parameters(slug):
    params, _ = REQUIRED[slug]
    assert [param.name for param in QUERIES[slug].params] == params


# --- the answers on the corpus --------------------------------------------------------------


@pytest.mark.shared
@pytest.mark.parametrize("slug", sorted(QUERIES))
def test_query_gives_its_expected_answer(slug, corpus_store, notations):
    results = corpus_store.query(QUERIES[slug].bind({}, notations))
    path = EXPECTED_DIR / f"{slug}.srj"
    if os.environ.get("KG_WRITE_EXPECTED") == "1" and os.environ.get("CI") != "true":
        data = results.serialize(format=QueryResultsFormat.JSON)
        if not path.is_file() or path.read_bytes() != data:
            path.write_bytes(data)
            pytest.fail(
                f"wrote {path.relative_to(ROOT)}: review it, then run without KG_WRITE_EXPECTED"
            )
        results = corpus_store.query(QUERIES[slug].bind({}, notations))
    if not path.is_file():
        pytest.fail(
            f"{path.relative_to(ROOT)} is missing: every named query needs its expected answer "
            "on the corpus (KG_WRITE_EXPECTED=1 writes it)"
        )
    names, rows = table(results)
    expected_names, expected_rows = table(
        parse_query_results(path=path, format=QueryResultsFormat.JSON)
    )
    assert names == expected_names
    assert rows == expected_rows
    assert rows, f"{slug}: its default parameters must give a non-empty answer"
    if slug in REQUIRED:
        assert names[: len(REQUIRED[slug][1])] == REQUIRED[slug][1]


# --- the required queries' parameters -------------------------------------------------------


@pytest.mark.shared
def test_a_category_includes_its_sub_categories(corpus_store, notations):
    query = QUERIES["mitigations-in-category"]
    names, top = answer(corpus_store, query, notations, code="1")
    _, model = answer(corpus_store, query, notations, code="1.1")
    _, leaf = answer(corpus_store, query, notations, code="1.1.1")
    # Each row is a mitigation with its own category's code: those of 1.1.1 are among those of
    # 1.1, which are among those of 1.
    assert leaf and set(leaf) < set(model) < set(top)
    assert {c.value for c in column(leaf, names, "code")} == {"1.1.1"}
    assert {c.value for c in column(model, names, "code")} == {
        "1.1",
        "1.1.1",
        "1.1.2",
        "1.1.3",
        "1.1.4",
    }


@pytest.mark.shared
def test_stage_gaps_follow_the_stage(corpus_store, notations):
    query = QUERIES["stage-gaps"]
    names, none_there = answer(corpus_store, query, notations, stage=STAGE + "plan-and-design")
    _, verify = answer(corpus_store, query, notations, stage=STAGE + "verify-and-validate")
    _, build = answer(corpus_store, query, notations)
    codes = {
        stage: {c.value for c in column(rows, names, "code")}
        for stage, rows in (("plan", none_there), ("verify", verify), ("build", build))
    }
    # No mitigation of the corpus is at plan-and-design: every leaf is a gap there.
    assert codes["verify"] < codes["plan"] and codes["build"] < codes["plan"]
    assert "1.1" not in codes["plan"] and "2.2.2" in codes["plan"]
    # Three mitigations of 2.2.2 are at verify-and-validate, none at build-and-use-model.
    assert "2.2.2" not in codes["verify"] and "2.2.2" in codes["build"]
    # An IRI that is not a lifecycle stage has no gaps, rather than every leaf.
    _, other = answer(
        corpus_store, query, notations, stage="https://w3id.org/airm-kg/taxonomy/actor/developer"
    )
    assert other == []


@pytest.mark.shared
def test_mitigations_from_another_file(corpus_store, notations):
    query = QUERIES["mitigations-from-file"]
    names, rows = answer(corpus_store, query, notations, file="A0605.txt")
    mitigations = {
        m.value.removeprefix("https://w3id.org/airm-kg/mitigation/")
        for m in column(rows, names, "mitigation")
    }
    assert {"A0605", "A0605/licensing", "A0605/compute-controls"} <= mitigations
    assert "A2205" not in mitigations
    assert answer(corpus_store, query, notations, file="no-such-file.txt")[1] == []
    # The taxonomy's file holds categories, no mitigation.
    assert answer(corpus_store, query, notations, file="mitigation-categories.ttl")[1] == []


@pytest.mark.parametrize(
    ("slug", "params", "message"),
    [
        (
            "mitigations-in-category",
            {"code": "abc"},
            "parameter 'code': 'abc' is not a category code",
        ),
        ("mitigations-in-category", {"code": "9.9.9"}, "parameter 'code': no category 9.9.9"),
        ("mitigations-in-category", {"category": "2.2"}, "no parameter 'category'"),
        ("stage-gaps", {"stage": "build-and-use-model"}, "parameter 'stage': not an IRI"),
        ("stage-gaps", {"stage": "not an iri"}, "parameter 'stage': not an IRI"),
        ("mitigations-from-file", {"name": "A2205.txt"}, "no parameter 'name'"),
        ("coverage-category-stage", {"stage": STAGE + "deploy"}, "no parameter 'stage'"),
        ("documents-by-mitigations", {"year": "2024"}, "no parameter 'year'"),
        ("documents-in-year", {"year": "twenty"}, "parameter 'year': not an integer"),
    ],
)
def test_a_bad_parameter_is_named(slug, params, message, notations):
    with pytest.raises(ParameterError) as error:
        QUERIES[slug].bind(params, notations)
    assert message in str(error.value)
