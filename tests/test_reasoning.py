"""`kg reason`: RDFS and OWL 2 RL entailments materialized in their own graph of a real store,
recomputed by every later commit in the store's regime, queryable in the aligned vocabularies'
terms, never absurd, never held to the shapes, and gone with `kg reason none`."""

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from kg.checks import check_store
from kg.cli import cli
from kg.load import Loader
from kg.reasoning import Regime
from kg.settings import Settings
from kg.store import OxigraphStore
from kg.validation import Validator

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
INFERENCE = "<https://w3id.org/airm-kg/graph/derived/inference>"
REGIME = "<https://w3id.org/airm-kg/graph/derived/inference-regime>"
#: Predicates of the vocabularies kg states its own data with: inference never adds to them.
OWN = ("kg:", "rdfs:label", "dcterms:", "skos:", "owl:sameAs", "prov:", "foaf:", "bibo:")


def run(store: Path, *arguments: str):
    result = CliRunner().invoke(cli, ["--store", str(store), *arguments])
    assert result.exit_code == 0, result.stderr
    return result


def values(store: Path, query: str) -> set:
    solutions = OxigraphStore(store).query(query)
    name = solutions.variables[0].value
    return {row[name].value for row in solutions}


@pytest.fixture
def store(tmp_path: Path) -> Path:
    directory = tmp_path / "store"
    run(directory, "load", str(SAMPLE))
    return directory


def test_rdfs_types_every_mitigation_in_the_aligned_vocabularies(store):
    run(store, "reason", "rdfs")
    mitigations = values(store, "SELECT ?m { ?m a kg:Mitigation }")
    assert len(mitigations) == 8
    assert values(store, "SELECT ?m { ?m a airo:RiskControl }") == mitigations
    assert values(store, "SELECT ?m { ?m a dpv:RiskMitigationMeasure }") == mitigations
    # Sub-properties too: a mitigation's source document is its AIRO documentation.
    assert values(store, "SELECT ?m { ?m airo:hasDocumentation ?d }") == values(
        store, "SELECT ?m { ?m kg:sourceDocument ?d }"
    )
    assert values(
        store, f"SELECT ?r {{ GRAPH {REGIME} {{ {INFERENCE} kg:entailmentRegime ?r }} }}"
    ) == {"rdfs"}


def test_only_news_about_kg_resources_is_kept(store):
    run(store, "reason", "rdfs")
    subjects = values(store, f"SELECT DISTINCT ?s {{ GRAPH {INFERENCE} {{ ?s ?p ?o }} }}")
    own = ("https://w3id.org/airm-kg/",)
    assert subjects and all(s.startswith(own) for s in subjects)
    trivia = values(
        store,
        f"SELECT ?s {{ GRAPH {INFERENCE} {{ {{ ?s a rdfs:Resource }} UNION "
        "{ ?s rdfs:subClassOf ?s } } }",
    )
    assert trivia == set()


def test_a_later_load_reasons_again_in_the_same_regime(store, tmp_path):
    run(store, "reason", "rdfs")
    more = tmp_path / "more"
    more.mkdir()
    page = sorted(SAMPLE.glob("*.txt"))[0]
    shutil.copy(page, more / "A9999.txt")
    run(store, "load", str(more))
    added = "https://w3id.org/airm-kg/mitigation/A9999"
    assert added in values(store, "SELECT ?m { ?m a airo:RiskControl }")


def test_none_removes_the_inferences(store):
    run(store, "reason", "rdfs")
    run(store, "reason", "none")
    assert values(store, "SELECT ?m { ?m a airo:RiskControl }") == set()
    assert values(store, f"SELECT ?s {{ GRAPH {INFERENCE} {{ ?s ?p ?o }} }}") == set()
    run(store, "load", str(SAMPLE))  # and later commits do not bring them back
    assert values(store, "SELECT ?m { ?m a airo:RiskControl }") == set()


def test_owl_rl_commits_and_adds_no_absurd_type(store):
    result = run(store, "reason", "owl-rl")
    assert "; shapes: 0 violations" in result.stderr
    absurd = values(
        store,
        "SELECT ?t { ?x a kg:Mitigation ; a ?t "
        "FILTER(?t IN (airo:AISystem, airo:AIComponent, owl:Class, rdfs:Class, owl:Ontology)) }",
    )
    assert absurd == set()


def test_inference_never_rewrites_kg_own_description(store, tmp_path):
    """OWL 2 RL copies descriptions across owl:sameAs, and kg:category is functional: two entries
    stated the same, of two categories, would make the categories one. Only statements in other
    vocabularies' terms are kept, so nothing of kg's own changes."""
    rows = OxigraphStore(store).query(
        "SELECT ?a ?b { ?a kg:category ?x . ?b kg:category ?y FILTER(?x != ?y && STR(?a) < STR(?b)) "
        "?a kg:navigatorId ?i . ?b kg:navigatorId ?j } LIMIT 1"
    )
    a, b = next(iter(rows))
    same = tmp_path / "same"
    same.mkdir()
    (same / "same.ttl").write_text(
        f"<{a.value}> <http://www.w3.org/2002/07/owl#sameAs> <{b.value}> .\n"
    )
    run(store, "load", str(same))
    notations = "SELECT ?c ?n { ?c a kg:MitigationCategory ; skos:notation ?n }"
    before = {tuple(r) for r in _rows(store, notations)}
    checked = _check_rows(store)  # the same-as-category check finds the pair, rightly
    run(store, "reason", "owl-rl")
    assert {tuple(r) for r in _rows(store, notations)} == before
    predicates = values(store, f"SELECT DISTINCT ?p {{ GRAPH {INFERENCE} {{ ?s ?p ?o }} }}")
    shown = {_curie(p) for p in predicates}
    assert shown and not [p for p in shown if p.startswith(OWN)], shown
    assert _check_rows(store) == checked  # nor what the checks see


def _check_rows(store: Path) -> dict:
    report = check_store(OxigraphStore(store), Settings(store=store))
    return {result.slug: result.rows for result in report.results}


def _rows(store: Path, query: str) -> list[list[str]]:
    solutions = OxigraphStore(store).query(query)
    names = [v.value for v in solutions.variables]
    return [[row[n].value for n in names] for row in solutions]


def _curie(iri: str) -> str:
    from kg.vocab import PREFIXES

    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace):
            return f"{prefix}:{iri[len(namespace) :]}"
    return iri


@pytest.mark.shared
def test_reasoning_uses_an_imported_ontology(store, shared):
    """With DPV imported, its hierarchy above the aligned class types the mitigations too."""
    dpv = shared / "ontologies" / "dpv-2.3" / "dpv.ttl"
    run(store, "import-ontology", str(dpv), "--graph", "https://w3id.org/dpv")
    run(store, "reason", "rdfs")
    mitigations = values(store, "SELECT ?m { ?m a kg:Mitigation }")
    assert values(store, "SELECT ?m { ?m a dpv:TechnicalOrganisationalMeasure }") == mitigations
    subjects = values(store, f"SELECT DISTINCT ?s {{ GRAPH {INFERENCE} {{ ?s ?p ?o }} }}")
    assert all(s.startswith("https://w3id.org/airm-kg/") for s in subjects)  # not DPV's closure


def test_a_rejected_commit_keeps_the_previous_inferences(store, tmp_path):
    settings = Settings(store=store)
    loader = Loader(settings, OxigraphStore(store), Validator.for_settings(settings))
    loader.reason(Regime.RDFS)
    generation = OxigraphStore(store).live_directory
    before = values(store, f"SELECT ?s {{ GRAPH {INFERENCE} {{ ?s ?p ?o }} }}")
    bad = tmp_path / "bad"
    bad.mkdir()  # parses, but does not conform: a category outside the taxonomy
    (bad / "bad.ttl").write_text(
        "<https://w3id.org/airm-kg/mitigation/Z1> a <https://w3id.org/airm-kg/ontology#Mitigation> ;\n"
        "  <https://w3id.org/airm-kg/ontology#category> <https://example.org/nope> .\n"
    )
    report = loader.load(loader.entry_sources([bad]))
    assert report.errors == [] and not report.committed
    assert OxigraphStore(store).live_directory == generation
    assert values(store, f"SELECT ?s {{ GRAPH {INFERENCE} {{ ?s ?p ?o }} }}") == before


def test_a_file_cannot_exempt_itself_from_the_shapes(store, tmp_path):
    """Calling its own graph an imported ontology (whose content the shapes skip) does not help
    a loaded file: only IRIs outside the base are imported ontologies' graphs."""
    evil = tmp_path / "evil"
    evil.mkdir()
    (evil / "evil.ttl").write_text(
        "<https://w3id.org/airm-kg/graph/file/evil.ttl> a <https://w3id.org/airm-kg/ontology#ImportedGraph> .\n"
        "<https://w3id.org/airm-kg/mitigation/Z2> a <https://w3id.org/airm-kg/ontology#Mitigation> ;\n"
        "  <https://w3id.org/airm-kg/ontology#category> <https://example.org/nope> .\n"
    )
    result = CliRunner().invoke(cli, ["--store", str(store), "load", str(evil)])
    assert result.exit_code == 1 and "nothing committed" in result.stderr
    assert "kgsh:ImportedGraph" in result.stderr
