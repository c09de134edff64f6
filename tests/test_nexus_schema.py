"""What the Nexus records are in AIRO and DPV terms, read from Nexus's own LinkML schema
(kg.nexus.schema): the class closure, the misspellings corrected, checked against the real
ontologies; and in a real store, the graph of those types, replaced with the schema, gone without
it, and queryable through AIRO with and without reasoning."""

import hashlib
import zipfile
from pathlib import Path

import pyoxigraph
import pytest
import yaml

from kg.load import Loader
from kg.nexus.package import NEXUS_FILES, SCHEMA_FOLDER, NexusFile, Release, locate
from kg.nexus.records import NexusError
from kg.nexus.schema import CORRECTIONS, SCHEMA_GRAPH, read_schema
from kg.reasoning import Regime
from kg.settings import Settings
from kg.store import OxigraphStore
from kg.validation import Validator
from kg.vocab import ALIGNED_NAMESPACES, PREFIXES
from kg.vocab import DEFAULT_BASE_IRI as BASE

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
AIRO, RISK = PREFIXES["airo"], PREFIXES["risk"]
GRAPH = f"<{BASE}graph/nexus/{SCHEMA_GRAPH}>"

COMMON = """
prefixes:
  airo: https://w3id.org/airo#
  dpv: https://w3id.org/dpv#
  skos: http://www.w3.org/2004/02/skos/core#
  schema: http://schema.org/
classes:
  Entity: {class_uri: "schema:Thing", mixin: true}
  Group: {is_a: Entity, class_uri: "skos:Collection"}
  Concept: {is_a: Entity, class_uri: "skos:Concept"}
"""
RISKS = """
classes:
  RiskConcept: {is_a: Concept, class_uri: "airo:RiskConcept"}
  RiskControl: {mixins: [RiskConcept], class_uri: "airo:RiskControl"}
  Action: {is_a: RiskControl}
  RiskGroup: {is_a: Group, mixins: RiskConcept}
  IncidentStatus: {class_uri: "dpv:IncidentStatus"}
  Ongoing: {is_a: IncidentStatus, class_uri: "dpv:IncidentOngoingclass"}
  Loop: {is_a: Loop2, class_uri: "airo:Risk"}
  Loop2: {is_a: Loop}
  Unshipped: {is_a: "linkml:Any"}
  Empty:
"""


def schema_file(name: str, text: str) -> NexusFile:
    data = text.encode()
    release = Release("ai-atlas-nexus", "9.9", "Apache-2.0")
    path = f"{SCHEMA_FOLDER}/{name}"
    return NexusFile(name, path, f"test!{path}", data, hashlib.sha256(data).hexdigest(), release)


def test_a_class_is_what_its_class_uri_and_its_ancestors_say_in_aligned_terms():
    schema = read_schema([schema_file("common.yaml", COMMON), schema_file("ai_risk.yaml", RISKS)])
    # Prefixes of one file serve the classes of another; mixins, as a list or one name, count.
    assert schema.terms("Action") == (AIRO + "RiskControl", AIRO + "RiskConcept")
    # skos:Collection (kg's groups are SKOS concepts) and schema:Thing are not aligned terms.
    assert schema.terms("RiskGroup") == (AIRO + "RiskConcept",)
    assert schema.terms("Entity") == ()
    # DPV classes the schema puts in `dpv:` are read in `risk:`, where DPV 2.3 has them.
    assert schema.terms("Ongoing") == (RISK + "IncidentOngoing", RISK + "IncidentStatus")
    assert schema.terms("Loop") == (AIRO + "Risk",)  # a cycle of is_a ends
    assert schema.terms("Unshipped") == schema.terms("Empty") == schema.terms("Absent") == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("classes: [\n  - a\n", r"test!.*/ai_risk\.yaml:2: not YAML"),
        ("- a list", r"test!.*/ai_risk\.yaml: a list, expected a schema"),
        ("classes: [Risk]", r"test!.*/ai_risk\.yaml: field 'classes': a list, expected a mapping"),
    ],
)
def test_a_schema_kg_cannot_read_is_an_error_naming_the_file(text, expected):
    with pytest.raises(NexusError, match=expected):
        read_schema([schema_file("ai_risk.yaml", text)])


# --- the pinned release's schema ------------------------------------------------------------


@pytest.fixture(scope="module")
def ontology_terms(shared: Path) -> set[str]:
    """Every IRI the copies of AIRO, DPV (with risk, tech, ai), VAIR and NIST AI 100-1 describe."""
    store = pyoxigraph.Store()
    for path in sorted((shared / "ontologies").glob("*/*.ttl")):
        store.bulk_load(path=str(path), format=pyoxigraph.RdfFormat.TURTLE)
    return {quad.subject.value for quad in store if isinstance(quad.subject, pyoxigraph.NamedNode)}


def schema_class_uris(wheel: Path) -> set[str]:
    """The class_uri of every class of the wheel's schema, expanded as the schema spells them."""
    uris, prefixes = set(), {}
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if name.startswith(SCHEMA_FOLDER + "/") and name.endswith(".yaml"):
                schema = yaml.safe_load(archive.read(name))
                prefixes |= schema.get("prefixes") or {}
                for spec in (schema.get("classes") or {}).values():
                    if spec and "class_uri" in spec:
                        uris.add(spec["class_uri"])
    expanded = set()
    for uri in uris:
        prefix, _, local = uri.partition(":")
        expanded.add(prefixes.get(prefix, prefix + ":") + local)
    return expanded


def test_every_aligned_term_of_the_schema_exists_in_the_real_ontologies(
    nexus_wheel, ontology_terms
):
    source = locate(nexus_wheel)
    assert [file.name for file in source.schema][:2] == ["ai-risk-ontology.yaml", "ai_aiuc.yaml"]
    terms = {term for terms in read_schema(source.schema).types.values() for term in terms}
    assert len(terms) > 30
    assert terms <= ontology_terms, sorted(terms - ontology_terms)
    # Each correction is of a spelling the schema uses, which the ontologies do not have.
    spelled = schema_class_uris(nexus_wheel)
    for wrong, right in CORRECTIONS.items():
        assert wrong in spelled and wrong not in ontology_terms and right in ontology_terms
    aligned = {uri for uri in spelled if uri.startswith(ALIGNED_NAMESPACES)}
    assert aligned - set(CORRECTIONS) <= ontology_terms  # no misspelling left uncorrected


def records_by_type(wheel: Path) -> dict[str, int]:
    """How many records of each `type` the six files hold, read from the wheel with plain YAML;
    documents and actions, which state none, as Documentation and Action."""
    counts: dict[str, int] = {}
    with zipfile.ZipFile(wheel) as archive:
        for path in NEXUS_FILES.values():
            if not path.endswith(".yaml"):
                continue
            for section, records in yaml.safe_load(archive.read(path)).items():
                default = {"documents": "Documentation", "actions": "Action"}.get(section)
                for record in records:
                    kind = record.get("type", default)
                    counts[kind] = counts.get(kind, 0) + 1
    return counts


def importer(directory: Path) -> tuple[Loader, OxigraphStore]:
    settings = Settings(store=directory)
    store = OxigraphStore(directory)
    loader = Loader(settings, store, Validator.for_settings(settings))
    assert loader.load(loader.vocabulary_sources() + loader.entry_sources([SAMPLE])).committed
    return loader, store


def count(store: OxigraphStore, pattern: str) -> int:
    (row,) = store.query(f"SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ {pattern} }}")
    return int(row["n"].value)


@pytest.fixture(scope="module")
def imported(nexus_wheel, tmp_path_factory) -> tuple[Loader, OxigraphStore]:
    loader, store = importer(tmp_path_factory.mktemp("schema") / "store")
    report = loader.import_nexus(locate(nexus_wheel))
    assert report.committed, report
    return loader, store


def test_the_records_are_typed_as_the_schema_says_in_a_graph_of_its_own(nexus_wheel, imported):
    _, store = imported
    kinds = records_by_type(nexus_wheel)
    assert kinds["Risk"] == 45 and kinds["Action"] > 1000
    in_graph = f"GRAPH {GRAPH} {{ ?x a airo:%s }}"
    assert count(store, in_graph % "Risk") == kinds["Risk"]
    assert count(store, in_graph % "RiskControl") == kinds["Action"]
    assert count(store, in_graph % "Documentation") == kinds["Documentation"]
    groups = kinds["RiskGroup"] + kinds["RiskControlGroup"]
    assert count(store, in_graph % "RiskConcept") == kinds["Risk"] + kinds["Action"] + groups
    # The types are of Nexus records only, and name only aligned terms.
    assert count(store, f"GRAPH {GRAPH} {{ ?x a ?t }} ?x kg:navigatorId ?id") == 0
    described = {
        row["s"].value
        for row in store.query(
            f"SELECT DISTINCT ?s {{ GRAPH {GRAPH} {{ ?s ?p ?o }} FILTER(?p != rdf:type) }}"
        )
    }  # besides types, the graph's provenance and the release it comes from
    assert described == {GRAPH.strip("<>"), "https://pypi.org/project/ai-atlas-nexus/1.2.5/"}
    types = {
        row["t"].value
        for row in store.query(
            f"SELECT DISTINCT ?t {{ GRAPH {GRAPH} {{ ?s a ?t }} FILTER(?s != " + GRAPH + ") }"
        )
    }
    assert types == {
        AIRO + name for name in ("Risk", "RiskConcept", "RiskControl", "Documentation")
    }
    # With its provenance: the schema's folder, and one digest of its files.
    (row,) = store.query(
        f"SELECT ?file ?hash WHERE {{ GRAPH {GRAPH} {{ {GRAPH} kg:sourceFile ?file ; "
        "kg:contentHash ?hash }}"
    )
    assert row["file"].value == SCHEMA_FOLDER
    assert row["hash"].value == "sha256:" + locate(nexus_wheel).schema_sha256


def test_nexus_risks_and_controls_answer_airo_queries_without_reasoning(imported):
    _, store = imported
    # A NIST AI 600-1 risk, an MIT risk subdomain, a NIST action and an MIT control.
    risk = f"<{BASE}taxonomy/genai-risk/confabulation>"
    assert count(store, f"VALUES ?x {{ {risk} }} ?x a airo:Risk") == 1
    assert count(store, "?x a airo:Risk ; skos:inScheme/skos:prefLabel ?s") == 45
    assert count(store, "?x a airo:RiskControl, kg:RmfAction") > 200
    assert count(store, "?x a airo:RiskControl, kg:Mitigation") > 800


def test_unchanged_files_and_schema_write_nothing_and_a_folder_empties_the_schema_graph(
    nexus_wheel, shared, tmp_path
):
    loader, store = importer(tmp_path / "store")
    assert loader.import_nexus(locate(nexus_wheel)).committed
    again = loader.import_nexus(locate(nexus_wheel))
    assert again.unchanged == 6 and again.entries == 0
    folder = loader.import_nexus(locate(shared / "data" / "ai-atlas-nexus"))
    assert folder.committed
    assert count(store, f"GRAPH {GRAPH} {{ ?x ?p ?o }}") == 0
    assert count(store, "?x a airo:Risk") == 0
    # The wheel again: the same six files, but a schema the store lacks, so not unchanged.
    assert loader.import_nexus(locate(nexus_wheel)).committed
    assert count(store, "?x a airo:Risk") == 45


def test_under_rdfs_every_mitigation_navigator_or_nexus_is_an_airo_risk_control(
    nexus_wheel, tmp_path
):
    loader, store = importer(tmp_path / "store")
    assert loader.import_nexus(locate(nexus_wheel)).committed
    assert loader.reason(Regime.RDFS).committed
    mitigations = count(store, "?x a kg:Mitigation")
    assert count(store, "?x a kg:Mitigation, airo:RiskControl") == mitigations
    navigator = f"FILTER(!STRSTARTS(STR(?x), '{BASE}mitigation/nexus/'))"
    assert count(store, f"?x a kg:Mitigation, airo:RiskControl {navigator}") == 8
    absurd = (
        "?x a ?t FILTER(?t IN (airo:AISystem, airo:AIComponent, owl:Class, rdfs:Class)) "
        "{ ?x a kg:Mitigation } UNION { ?x a airo:Risk } UNION { ?x a kg:LifecycleStage }"
    )
    assert count(store, absurd) == 0
