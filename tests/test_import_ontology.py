"""`kg import-ontology`: an external ontology into its own named graph of a real store, as it is:
its terms queryable, its content left alone by kg's shapes (DPV's concepts have labels in many
languages, which kg's own concepts may not), its provenance checked, re-import a no-op, removal
exact, and bad input named."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from kg.cli import cli
from kg.load import Loader
from kg.settings import Settings
from kg.store import OxigraphStore

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
AIRO = "https://w3id.org/airo"


def run(store: Path, *arguments: str):
    return CliRunner().invoke(cli, ["--store", str(store), *arguments])


@pytest.fixture
def store(tmp_path: Path) -> Path:
    directory = tmp_path / "store"
    settings = Settings(store=directory)
    loader = Loader(settings, OxigraphStore(directory))
    assert loader.load(loader.vocabulary_sources() + loader.entry_sources([SAMPLE])).committed
    return directory


def rows(store: Path, query: str) -> list[tuple]:
    solutions = OxigraphStore(store).query(query)
    names = [v.value for v in solutions.variables]
    return [tuple(row[n].value for n in names) for row in solutions]


@pytest.mark.shared
def test_an_ontology_is_imported_into_its_graph_and_queryable(store, shared):
    dpv = shared / "ontologies" / "dpv-2.3" / "dpv.ttl"
    result = run(store, "import-ontology", str(dpv), "--graph", "https://w3id.org/dpv")
    assert result.exit_code == 0, result.stderr
    assert "0 violations" in result.stderr  # DPV's own concepts are not held to kg's shapes
    assert rows(store, "SELECT ?l { dpv:RiskMitigationMeasure skos:prefLabel ?l }") == [
        ("Risk Mitigation Measure",)
    ]
    (provenance,) = rows(
        store,
        "SELECT ?file ?hash { GRAPH <https://w3id.org/dpv> { <https://w3id.org/dpv> "
        "a kg:ImportedGraph, prov:Entity ; kg:sourceFile ?file ; kg:contentHash ?hash } }",
    )
    assert provenance[0] == "dpv.ttl" and provenance[1].startswith("sha256:")
    # Through the alignment, a mitigation's DPV class has its DPV label.
    labelled = rows(
        store,
        "SELECT DISTINCT ?label { kg:Mitigation rdfs:subClassOf ?c . "
        "?c skos:prefLabel ?label FILTER(LANG(?label) = 'en' || LANG(?label) = '') }",
    )
    assert ("Risk Mitigation Measure",) in labelled
    again = run(store, "import-ontology", str(dpv), "--graph", "https://w3id.org/dpv")
    assert again.exit_code == 0 and "1 unchanged" in again.stderr
    assert run(store, "validate").exit_code == 0


@pytest.mark.shared
def test_removing_an_ontology_removes_its_graph_only(store, shared):
    airo = shared / "ontologies" / "airo" / "airo.ttl"
    assert run(store, "import-ontology", str(airo), "--graph", AIRO).exit_code == 0
    before = rows(store, "SELECT (COUNT(*) AS ?n) { ?m a kg:Mitigation }")
    removed = run(store, "import-ontology", "--remove", "--graph", AIRO)
    assert removed.exit_code == 0, removed.stderr
    assert not bool(OxigraphStore(store).query(f"ASK {{ GRAPH <{AIRO}> {{ ?s ?p ?o }} }}"))
    assert rows(store, "SELECT (COUNT(*) AS ?n) { ?m a kg:Mitigation }") == before
    # Only imported ontologies can be removed so.
    other = run(store, "import-ontology", "--remove", "--graph", "https://example.org/none")
    assert other.exit_code == 1 and "no imported ontology has this graph" in other.stderr


def test_an_owl_file_is_read_as_rdf_xml(store, tmp_path):
    owl = tmp_path / "tiny.owl"
    owl.write_text(
        '<?xml version="1.0"?>\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"\n'
        '         xmlns:owl="http://www.w3.org/2002/07/owl#">\n'
        '  <owl:Class rdf:about="https://example.org/tiny#Thing"/>\n'
        "</rdf:RDF>\n",
        encoding="utf-8",
    )
    assert (
        run(store, "import-ontology", str(owl), "--graph", "https://example.org/tiny").exit_code
        == 0
    )
    assert bool(OxigraphStore(store).query("ASK { <https://example.org/tiny#Thing> a owl:Class }"))


def test_bad_input_is_named_and_writes_nothing(store, tmp_path):
    generation = OxigraphStore(store).live_directory
    broken = tmp_path / "broken.ttl"
    broken.write_text("@prefix ex: <https://example.org/> .\nex:a ex:b .\n", encoding="utf-8")
    result = run(store, "import-ontology", str(broken), "--graph", "https://example.org/broken")
    assert result.exit_code == 1 and str(broken) in result.stderr and "line 2" in result.stderr
    under_base = run(
        store, "import-ontology", str(broken), "--graph", "https://w3id.org/airm-kg/graph/x"
    )
    assert under_base.exit_code == 2 and "outside kg's base" in under_base.stderr
    not_iri = run(store, "import-ontology", str(broken), "--graph", "not an iri")
    assert not_iri.exit_code == 2 and "--graph" in not_iri.stderr
    both = run(store, "import-ontology", str(broken), "--remove", "--graph", AIRO)
    assert both.exit_code == 2
    assert OxigraphStore(store).live_directory == generation


def test_an_ontology_may_not_describe_kg_resources(store, tmp_path):
    """kg's data is loaded, and checked, by `kg load`: not slipped in as an ontology."""
    sneaky = tmp_path / "sneaky.ttl"
    sneaky.write_text(
        "<https://w3id.org/airm-kg/mitigation/Z3> a <https://w3id.org/airm-kg/ontology#Mitigation> .\n",
        encoding="utf-8",
    )
    result = run(store, "import-ontology", str(sneaky), "--graph", "https://example.org/sneaky")
    assert result.exit_code == 1 and "may not describe kg's resources" in result.stderr
    assert str(sneaky) in result.stderr


def test_only_rdf_files_are_imported(store, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("<a> <b> <c> .\n", encoding="utf-8")
    result = run(store, "import-ontology", str(text), "--graph", "https://example.org/notes")
    assert result.exit_code == 1 and "expected an RDF file" in result.stderr


def test_rdf_xml_entities_that_expand_are_refused(store, tmp_path):
    laughs = tmp_path / "laughs.owl"
    laughs.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [ <!ENTITY a "aaaaaaaaaa">'
        ' <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"> ]>\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>\n',
        encoding="utf-8",
    )
    result = run(store, "import-ontology", str(laughs), "--graph", "https://example.org/laughs")
    assert result.exit_code == 1 and str(laughs) in result.stderr
