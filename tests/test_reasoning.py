"""`kg reason`: RDFS and OWL 2 RL entailments materialized in their own graph of a real store,
recomputed by every later commit in the store's regime, queryable in the aligned vocabularies'
terms, never absurd, never held to the shapes, and gone with `kg reason none`."""

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from kg.cli import cli
from kg.load import Loader
from kg.reasoning import Regime
from kg.settings import Settings
from kg.store import OxigraphStore

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
INFERENCE = "<https://w3id.org/airm-kg/graph/derived/inference>"


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
    assert values(store, f"SELECT ?r {{ GRAPH {INFERENCE} {{ ?g kg:entailmentRegime ?r }} }}") == {
        "rdfs"
    }


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
    """OWL 2 RL copies descriptions across owl:sameAs: an entry would have two quotations; the
    shapes apply to what is stated, not to what is inferred, so the commit stands."""
    result = run(store, "reason", "owl-rl")
    assert "0 violations" in result.stderr
    absurd = values(
        store,
        "SELECT ?t { ?x a kg:Mitigation ; a ?t "
        "FILTER(?t IN (airo:AISystem, airo:AIComponent, owl:Class, rdfs:Class, owl:Ontology)) }",
    )
    assert absurd == set()
    assert run(store, "validate").exit_code == 0


def test_a_rejected_commit_keeps_the_previous_inferences(store, tmp_path):
    settings = Settings(store=store)
    loader = Loader(settings, OxigraphStore(store))
    loader.reason(Regime.RDFS)
    before = values(store, f"SELECT ?s {{ GRAPH {INFERENCE} {{ ?s ?p ?o }} }}")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "A0001.txt").write_text("not an entry\n", encoding="utf-8")
    report = loader.load(loader.entry_sources([bad]))
    assert not report.committed
    assert values(store, f"SELECT ?s {{ GRAPH {INFERENCE} {{ ?s ?p ?o }} }}") == before
