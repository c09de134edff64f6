"""Every named query of queries/ runs on the shared corpus and the AI Atlas Nexus data (imported
as `kg import-nexus` does) with its default parameters and gives exactly tests/expected/<slug>.srj (SPARQL JSON results, compared row by row as RDF terms, in
order: the queries order their rows fully). Then the required queries' parameters: another value
gives the answer it should, a bad one is a ParameterError naming the parameter.

`KG_WRITE_EXPECTED=1` writes a missing or different expected file from the corpus and still fails
the test, so that no run passes while writing; review the file, then run again without it.
"""

import csv
import os
from collections.abc import Collection

import pytest
from conftest import ROOT
from pyoxigraph import QueryResultsFormat, RdfFormat, Store, parse_query_results
from site_store import load_store

from kg.load import Loader
from kg.named_queries import NamedQuery, ParameterError, load_queries
from kg.nexus.package import locate
from kg.settings import Settings
from kg.store import OxigraphStore
from kg.taxonomy import load_vocabulary

QUERIES_DIR = ROOT / "queries"
EXPECTED_DIR = ROOT / "tests" / "expected"
QUERIES = load_queries(QUERIES_DIR)
#: How many named queries there are; a query added or lost must change this number.
EXPECTED_QUERIES = 25
#: The queries issue 11 requires: their parameters and first result columns.
REQUIRED = {
    "mitigations-in-category": (["code"], ["mitigation", "code"]),
    "coverage-category-stage": ([], ["category", "stage", "count"]),
    "documents-by-mitigations": ([], ["document", "title", "count"]),
    "stage-gaps": (["stage"], ["category"]),
    "mitigations-from-file": (["file"], ["mitigation"]),
}
STAGE = "https://w3id.org/airm-kg/taxonomy/stage/"
BASE = "https://w3id.org/airm-kg/"
RISK = BASE + "taxonomy/genai-risk/"
#: The navigator pages ↔ Nexus records links checked by hand (see tests/test_nexus_links.py).
LINKS_TABLE = ROOT / "tests" / "fixtures" / "nexus-links.tsv"

Row = tuple


@pytest.fixture(scope="module")
def corpus_store(corpus, shared, tmp_path_factory) -> OxigraphStore:
    """The corpus pages, then the Nexus data: one graph, with the links derived between them."""
    directory = tmp_path_factory.mktemp("named-queries") / "store"
    store = OxigraphStore(load_store(directory, corpus, rejects=True))
    nexus = locate(shared / "data" / "ai-atlas-nexus")
    report = Loader(Settings(store=directory), store).import_nexus(nexus)
    assert report.committed and not report.errors, report.errors[:3]
    return store


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


def records(names: list[str], rows: list[Row]) -> list[dict[str, str | None]]:
    """Rows as dicts of lexical values (None where unbound)."""
    return [
        {
            name: (term.value if term is not None else None)
            for name, term in zip(names, row, strict=True)
        }
        for row in rows
    ]


def values(store, sparql: str) -> set:
    """The first column of a SELECT on the store, as lexical values (a tuple for several)."""
    names, rows = table(store.query(sparql))
    found = records(names, rows)
    return {r[names[0]] if len(names) == 1 else tuple(r.values()) for r in found}


def inline_store(turtle: str) -> Store:
    """An in-memory store holding `turtle` in its default graph."""
    store = Store()
    store.load(turtle.encode(), format=RdfFormat.TURTLE, base_iri=BASE)
    return store


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


# --- the Nexus queries: risks, mitigations, links and the crosswalk ------------------------


@pytest.mark.shared
def test_a_risk_gives_its_actions_and_the_records_quoting_them(corpus_store, notations):
    names, rows = answer(corpus_store, QUERIES["risk-mitigations"], notations)
    found = records(names, rows)
    related = values(corpus_store, f"SELECT ?a WHERE {{ ?a kg:relatedRisk <{RISK}confabulation> }}")
    assert len(related) == 18
    assert {r["action"] for r in found} == related
    quoting = values(
        corpus_store,
        f"SELECT ?m ?a WHERE {{ ?a kg:relatedRisk <{RISK}confabulation> . "
        "?m prov:wasQuotedFrom ?a }",
    )
    assert {(r["mitigation"], r["action"]) for r in found if r["mitigation"]} == quoting
    assert all(m.endswith("_NIST2024") for m, _ in quoting)
    addressing = values(
        corpus_store, f"SELECT ?m WHERE {{ ?m kg:addressesRisk <{RISK}confabulation> }}"
    )
    by_how: dict[str, set] = {}
    for r in found:
        by_how.setdefault(r["how"], set()).add(r["mitigation"])
    # Each record naming confabulation quotes an action related to it, and says so in ?how.
    assert by_how["quotes a related action and addresses the risk"] == addressing
    assert by_how["quotes a related action"] == {m for m, _ in quoting} - addressing
    # An action no record quotes is still listed (the 203 records quote 203 of 212 actions).
    assert by_how["no mitigation quotes it"] == {None}
    (lonely,) = [r for r in found if r["how"] == "no mitigation quotes it"]
    assert lonely["notation"] == "MS-3.2-001" and lonely["actionText"]
    assert all(r["notation"] and r["actionText"] for r in found)


@pytest.mark.shared
def test_a_risk_no_action_relates_to_gives_the_records_naming_it(corpus_store, notations):
    risk = RISK + "harmful-bias-and-homogenization"
    names, rows = answer(corpus_store, QUERIES["risk-mitigations"], notations, risk=risk)
    found = records(names, rows)
    # NIST AI 600-1's actions as Nexus has them relate none to this risk; 19 records name it.
    naming = values(corpus_store, f"SELECT ?m WHERE {{ ?m kg:addressesRisk <{risk}> }}")
    assert len(naming) == 19
    assert {r["mitigation"] for r in found} == naming
    assert {r["how"] for r in found} == {"addresses the risk"}
    # The action shown is the one each record quotes.
    quoted = values(
        corpus_store,
        f"SELECT ?m ?a WHERE {{ ?m kg:addressesRisk <{risk}> ; prov:wasQuotedFrom ?a }}",
    )
    assert {(r["mitigation"], r["action"]) for r in found} == quoted


def test_a_risk_lists_the_navigator_entry_that_is_a_record():
    store = inline_store("""
        @prefix kg: <https://w3id.org/airm-kg/ontology#> .
        @prefix owl: <http://www.w3.org/2002/07/owl#> .
        @prefix prov: <http://www.w3.org/ns/prov#> .
        @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
        <taxonomy/rmf-function/ms-1.1-001> skos:notation "MS-1.1-001" ;
            skos:definition "Measure it." ; kg:relatedRisk <taxonomy/genai-risk/confabulation> .
        <mitigation/nexus/A1_NIST2024> prov:wasQuotedFrom <taxonomy/rmf-function/ms-1.1-001> .
        <mitigation/A9001> kg:navigatorId "A9001" ; owl:sameAs <mitigation/nexus/A1_NIST2024> .
        <mitigation/A9002> kg:navigatorId "A9002" .
    """)
    names, rows = table(store.query(QUERIES["risk-mitigations"].bind({}, ())))
    (row,) = records(names, rows)
    assert row["mitigation"] == BASE + "mitigation/nexus/A1_NIST2024"
    assert row["entry"] == BASE + "mitigation/A9001"
    assert row["how"] == "quotes a related action"


@pytest.mark.shared
def test_a_record_gives_the_risks_it_names_and_those_of_its_action(corpus_store, notations):
    query = QUERIES["mitigation-risks"]
    record = query.params[0].default
    names, rows = answer(corpus_store, query, notations)
    found = records(names, rows)
    named = values(corpus_store, f"SELECT ?r WHERE {{ <{record}> kg:addressesRisk ?r }}")
    related = values(
        corpus_store, f"SELECT ?r WHERE {{ <{record}> prov:wasQuotedFrom/kg:relatedRisk ?r }}"
    )
    assert {r["risk"] for r in found if r["how"] == "addresses"} == named
    assert {r["risk"] for r in found if r["how"] == "quoted action"} == related
    # The default shows both ways and where they differ: harmful bias is named, not related.
    assert named - related == {RISK + "harmful-bias-and-homogenization"}
    assert {r["source"] for r in found} == {record}
    assert all(r["label"] for r in found)


def test_an_entry_gets_the_risks_of_the_record_it_is():
    # A page's entry is the Nexus record; an entry listed on other pages is the page's entry.
    store = inline_store("""
        @prefix kg: <https://w3id.org/airm-kg/ontology#> .
        @prefix owl: <http://www.w3.org/2002/07/owl#> .
        @prefix prov: <http://www.w3.org/ns/prov#> .
        @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
        <taxonomy/rmf-function/mg-1.1-001> skos:notation "MG-1.1-001" ;
            kg:relatedRisk <taxonomy/genai-risk/data-privacy> .
        <taxonomy/genai-risk/data-privacy> skos:prefLabel "Data Privacy"@en .
        <taxonomy/genai-risk/confabulation> skos:prefLabel "Confabulation"@en .
        <mitigation/nexus/A1_NIST2024> prov:wasQuotedFrom <taxonomy/rmf-function/mg-1.1-001> ;
            kg:addressesRisk <taxonomy/genai-risk/confabulation> .
        <mitigation/A9001> owl:sameAs <mitigation/nexus/A1_NIST2024>, <mitigation/doc/listed/x> .
        <mitigation/A9002> kg:addressesRisk <taxonomy/genai-risk/confabulation> .
    """)
    query = QUERIES["mitigation-risks"]
    twin = BASE + "mitigation/nexus/A1_NIST2024"
    for asked in ("mitigation/A9001", "mitigation/doc/listed/x"):
        names, rows = table(store.query(query.bind({"mitigation": BASE + asked}, ())))
        assert [
            (r["label"], r["how"], r["source"], r["notation"]) for r in records(names, rows)
        ] == [
            ("Confabulation", "same as: addresses", twin, None),
            ("Data Privacy", "same as: quoted action", twin, "MG-1.1-001"),
        ], asked
    names, rows = table(store.query(query.bind({"mitigation": twin}, ())))
    assert {(r["label"], r["how"]) for r in records(names, rows)} == {
        ("Confabulation", "addresses"),
        ("Data Privacy", "quoted action"),
    }


@pytest.mark.shared
def test_the_links_are_those_checked_by_hand(corpus_store, notations):
    names, rows = answer(corpus_store, QUERIES["nexus-links"], notations)
    found = records(names, rows)
    with LINKS_TABLE.open(encoding="utf-8") as stream:
        table_rows = list(csv.DictReader(stream, delimiter="\t"))
    expected = {(r["navigator_id"], r["nexus_id"]) for r in table_rows if r["how"] != "ambiguous"}
    assert {(r["id"], r["nexusId"]) for r in found} == expected
    assert len(found) == len(expected) == 35
    # The same-entry links, between navigator entries, leave the links to Nexus records out.
    same_entry = records(*answer(corpus_store, QUERIES["same-entry-links"], notations))
    assert not {r["listed"] for r in same_entry} & {r["record"] for r in found}


@pytest.mark.shared
def test_the_crosswalk_is_every_mapping_with_its_evidence(corpus_store, notations):
    names, rows = answer(corpus_store, QUERIES["category-crosswalk"], notations)
    found = records(names, rows)
    mappings = values(
        corpus_store,
        "SELECT ?v1 ?p ?v2 WHERE { ?v1 a kg:MitigationCategoryV1 ; ?p ?v2 . "
        "?v2 a kg:MitigationCategory . FILTER(?p IN (skos:closeMatch, skos:relatedMatch)) }",
    )
    assert {(r["v1"], r["predicate"], r["v2"]) for r in found} == mappings
    assert len(found) == 27
    assert all(r["v1"].endswith("/" + r["v1Code"]) and r["v1Label"] for r in found)
    # A v1 category's linked entries are those supporting its mappings.
    for v1 in {r["v1"] for r in found}:
        mine = [r for r in found if r["v1"] == v1]
        assert {r["sources"] for r in mine} == {str(sum(int(r["support"]) for r in mine))}


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
        ("risk-mitigations", {"risk": "confabulation"}, "parameter 'risk': not an IRI"),
        ("mitigation-risks", {"mitigation": "A2244"}, "parameter 'mitigation': not an IRI"),
        ("category-crosswalk", {"code": "1.2"}, "no parameter 'code'"),
    ],
)
def test_a_bad_parameter_is_named(slug, params, message, notations):
    with pytest.raises(ParameterError) as error:
        QUERIES[slug].bind(params, notations)
    assert message in str(error.value)


# --- through the terms of the aligned vocabularies ------------------------------------------

NIST = "https://w3id.org/lmodel/nist-ai-100-1/"


def covered(store, notations, term: str) -> set[str]:
    names, rows = answer(store, QUERIES["mitigations-by-external-term"], notations, term=term)
    return {r["mitigation"] for r in records(names, rows)}


@pytest.mark.shared
def test_a_nist_lifecycle_stage_selects_the_mitigations_of_its_kg_stage(corpus_store, notations):
    found = covered(corpus_store, notations, NIST + "AiLifecycleStageEnum#DEPLOY_AND_USE")
    expected = values(
        corpus_store, f"SELECT ?m {{ ?m kg:lifecycleStage <{BASE}taxonomy/stage/deploy> }}"
    )
    assert found and found == expected


@pytest.mark.shared
def test_a_broader_dpv_actor_covers_kg_developers(corpus_store, notations):
    found = covered(corpus_store, notations, "https://w3id.org/dpv/tech#Developer")
    expected = values(corpus_store, f"SELECT ?m {{ ?m kg:actor <{BASE}taxonomy/actor/developer> }}")
    assert found and found == expected


@pytest.mark.shared
def test_a_dpv_measure_covers_a_category_and_its_subcategories(corpus_store, notations):
    found = covered(corpus_store, notations, "https://w3id.org/dpv#OrganisationalMeasure")
    expected = values(
        corpus_store, f"SELECT ?m {{ ?m kg:category/skos:broader* <{BASE}taxonomy/mitigation/2> }}"
    )
    assert len(found) > 10 and found == expected


@pytest.mark.shared
def test_a_narrower_or_related_term_selects_nothing(corpus_store, notations):
    # kg's governance actor is broader than dpv:Authority: not all its mitigations are an authority's.
    assert covered(corpus_store, notations, "https://w3id.org/dpv#Authority") == set()
    assert covered(corpus_store, notations, NIST + "AiActorTaskEnum#OTHER_AI_ACTORS") == set()
