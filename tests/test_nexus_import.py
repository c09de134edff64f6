"""`kg import-nexus`: the Nexus files committed into a real store on disk, validated, one graph per
file with its provenance, idempotent, atomic; and the links to navigator entries derived from the
store agreeing with the join on parsed pages (and with the hand-checked table)."""

import csv
import hashlib
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from pyoxigraph import Literal, Quad

import kg.load as kg_load
from kg.checks import check_store
from kg.cli import cli
from kg.load import Loader
from kg.nexus.links import Quote, navigator_links, profile_links, records_of
from kg.nexus.package import NEXUS_FILES, NexusSource, Release, locate
from kg.nexus.rdfize import nexus_quads
from kg.nexus.read import CONTROLS, read_nexus
from kg.nexus.records import NexusError
from kg.nexus.schema import NexusSchema
from kg.settings import Settings
from kg.store import OxigraphStore
from kg.validation import Severity, Validator
from kg.vocab import DCTERMS, PROV, RDFS, Iris
from kg.vocab import DEFAULT_BASE_IRI as BASE

pytestmark = pytest.mark.shared

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
LINKS_TABLE = ROOT / "tests" / "fixtures" / "nexus-links.tsv"
LINKS_GRAPH = f"<{BASE}graph/derived/nexus-links>"


@pytest.fixture(scope="module")
def nexus(shared: Path) -> Path:
    return shared / "data" / "ai-atlas-nexus"


def import_into(directory: Path, nexus: Path, *pages: Path, validate: bool = True):
    settings = Settings(store=directory)
    store = OxigraphStore(directory)
    loader = Loader(settings, store, Validator.for_settings(settings) if validate else None)
    for folder in pages:
        loader.load(loader.vocabulary_sources() + loader.entry_sources([folder]), skip_invalid=True)
    return loader.import_nexus(locate(nexus)), store


def rows(store: OxigraphStore, query: str) -> list[tuple[str, ...]]:
    solutions = store.query(query)
    names = [v.value for v in solutions.variables]
    return [tuple(row[n].value if row[n] else None for n in names) for row in solutions]


def count(store: OxigraphStore, pattern: str) -> int:
    return int(rows(store, f"SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ {pattern} }}")[0][0])


@pytest.fixture(scope="module")
def imported(nexus: Path, tmp_path_factory: pytest.TempPathFactory):
    return import_into(tmp_path_factory.mktemp("nexus"), nexus, SAMPLE)


def test_the_import_commits_a_conforming_graph(imported):
    report, _ = imported
    assert report.committed and not report.errors
    assert report.validation is not None and report.validation.conforms
    assert report.entries == 831
    # Upstream faults are repaired with warnings, grouped by kind.
    assert report.warning_count == len(report.warnings[next(iter(report.warnings))]) >= 5


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("?x a kg:Mitigation ; dcterms:identifier ?id", 831),
        ("?x a kg:Mitigation ; kg:categoryV1 ?c", 820),
        ("?x a kg:Mitigation ; dcterms:identifier ?id ; kg:category ?c", 0),
        ("?x a kg:SourceDocument ; dcterms:identifier ?id", 15),
        (f"?x skos:inScheme <{BASE}taxonomy/mitigation-v1>", 27),
        (f"?x skos:inScheme <{BASE}taxonomy/risk-domain>", 31),
        (f"?x skos:inScheme <{BASE}taxonomy/genai-risk>", 12),
        ("?x a kg:RmfCategory ; skos:broader/a kg:RmfFunction", 19),
        ("?x a kg:RmfSubcategory ; skos:broader/a kg:RmfCategory", 49),
        ("?x a kg:RmfAction ; skos:broader/a kg:RmfSubcategory ; skos:definition ?t", 212),
        ("?x a kg:ActorTask", 13),
        ("?x prov:wasQuotedFrom ?action", 203),
        ("?x a kg:RmfAction ; kg:relatedRisk ?r", 192),  # 20 actions name no risk
        ("?x kg:sourceDocument ?d . ?d dcterms:identifier 'NIST.AI.600-1'", 203),
    ],
)
def test_counts(imported, pattern, expected):
    assert count(imported[1], pattern) == expected


def test_a_record_keeps_its_nexus_id_name_text_and_v1_category(imported, nexus):
    _, store = imported
    record = read_nexus(nexus).mitigations["A0086_Future_of_Life_Institute2024"]
    (row,) = rows(
        store,
        f"""SELECT ?id ?label ?text ?code ?doc WHERE {{
          <{BASE}mitigation/nexus/{record.id}> dcterms:identifier ?id ; rdfs:label ?label ;
            kg:quotation ?text ; kg:categoryV1/skos:notation ?code ;
            kg:sourceDocument/dcterms:identifier ?doc }}""",
    )
    assert row == (record.id, record.name, record.text, record.category, record.document)


def test_v1_codes_never_collide_with_current_ones(imported):
    _, store = imported
    labels = dict(
        rows(
            store,
            f"""SELECT ?scheme ?label WHERE {{
              VALUES (?c ?scheme) {{ (<{BASE}taxonomy/mitigation-v1/1.1> "v1")
                                     (<{BASE}taxonomy/mitigation/1.1> "v2") }}
              ?c skos:prefLabel ?label }}""",
        )
    )
    assert labels == {"v1": "Board Structure & Oversight", "v2": "Model"}


def test_actions_hang_under_kg_function_concepts(imported):
    _, store = imported
    (row,) = rows(
        store,
        f"""SELECT ?sub ?cat ?function ?text WHERE {{
          <{BASE}taxonomy/rmf-function/gv-1.1-001> skos:definition ?text ;
            skos:broader ?s . ?s skos:notation ?sub ; skos:broader ?c .
          ?c skos:notation ?cat ; skos:broader ?f . ?f skos:prefLabel ?function }}""",
    )
    assert row[:3] == ("GV-1.1", "GV-1", "Govern")
    assert row[3].startswith("Align GAI development and use with applicable laws")


def test_each_file_has_its_graph_with_provenance(imported, nexus):
    _, store = imported
    found = {
        row[0]: row[1:]
        for row in rows(
            store,
            """SELECT ?file ?hash ?version ?licence ?from WHERE { GRAPH ?g {
              ?g a prov:Entity ; kg:sourceFile ?file ; kg:contentHash ?hash ;
                dcterms:license ?licence ; prov:wasDerivedFrom ?from ;
                prov:generatedAtTime ?t ; kg:loaderVersion ?l .
              ?from owl:versionInfo ?version ; dcterms:license ?licence }
              FILTER (STRSTARTS(STR(?g), "https://w3id.org/airm-kg/graph/nexus/")) }""",
        )
    }
    assert set(found) == set(NEXUS_FILES.values())
    for name, path in NEXUS_FILES.items():
        digest = hashlib.sha256((nexus / name).read_bytes()).hexdigest()
        assert found[path] == (
            f"sha256:{digest}",
            "commit a8af9d79",
            "http://spdx.org/licenses/Apache-2.0",
            "https://github.com/IBM/ai-atlas-nexus/commit/a8af9d79",
        )


def test_reimporting_the_same_files_writes_nothing(nexus, tmp_path):
    _, store = import_into(tmp_path, nexus, SAMPLE, validate=False)
    generation = store.live_directory
    report, store = import_into(tmp_path, nexus)
    assert report.committed and report.unchanged == 6 and report.graphs == 0
    assert store.live_directory == generation


def test_a_broken_file_names_file_record_and_field_and_writes_nothing(nexus, tmp_path):
    _, store = import_into(tmp_path / "store", nexus, SAMPLE, validate=False)
    before = store.snapshot().version
    broken = tmp_path / "broken"
    shutil.copytree(nexus, broken)
    controls = broken / "mit_ai_risk_repository_data_controls.yaml"
    text = controls.read_text(encoding="utf-8")
    controls.write_text(text.replace("type: Action", "type: Acton", 1), encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["--store", str(tmp_path / "store"), "import-nexus", str(broken)]
    )
    assert result.exit_code == 1
    assert str(controls) in result.stderr and "field 'type'" in result.stderr
    assert "record 'A" in result.stderr and "nothing committed" in result.stderr
    assert OxigraphStore(tmp_path / "store").snapshot().version == before


def test_the_command_imports_then_finds_nothing_to_do(nexus, tmp_path):
    arguments = ["--store", str(tmp_path / "store"), "import-nexus", str(nexus)]
    first = CliRunner().invoke(cli, arguments)
    assert first.exit_code == 0, first.stderr
    assert "831 records read" in first.stderr and "0 violations" in first.stderr
    again = CliRunner().invoke(cli, arguments)
    assert again.exit_code == 0 and "6 unchanged" in again.stderr
    removed = CliRunner().invoke(cli, [*arguments[:3], "--remove"])
    assert removed.exit_code == 0, removed.stderr
    store = OxigraphStore(tmp_path / "store")
    assert count(store, "?x dcterms:identifier ?id") == 0
    assert count(store, "GRAPH ?x { ?s ?p ?o } FILTER CONTAINS(STR(?x), '/nexus')") == 0
    assert count(store, "?x a kg:RmfFunction") == 5  # kg's own vocabulary stays


# --- links to navigator entries, derived in the store ----------------------------------------


def store_links(store: OxigraphStore) -> set[tuple[str, str]]:
    return set(
        rows(
            store,
            f"""SELECT ?entry ?record WHERE {{ GRAPH {LINKS_GRAPH} {{ ?e owl:sameAs ?r }}
              ?e kg:navigatorId ?entry . ?r dcterms:identifier ?record }}""",
        )
    )


@pytest.fixture(scope="module")
def with_corpus(nexus: Path, corpus: Path, tmp_path_factory: pytest.TempPathFactory):
    return import_into(tmp_path_factory.mktemp("corpus-nexus"), nexus, corpus, validate=False)[1]


def test_store_links_are_the_hand_checked_pairs(with_corpus):
    with LINKS_TABLE.open(encoding="utf-8") as table:
        checked = list(csv.DictReader(table, delimiter="\t"))
    linked = {(r["navigator_id"], r["nexus_id"]) for r in checked if r["how"] != "ambiguous"}
    assert store_links(with_corpus) == linked
    assert len(linked) == 35


def test_store_links_agree_with_the_join_on_parsed_pages(with_corpus, corpus, parser, nexus):
    """The store keeps no 'page complete' flag; what it reads instead (nothing after the body)
    must decide every page as the parsed entry does."""
    entries = []
    for page in sorted(corpus.glob("*.txt")):
        try:
            entries.append(parser.parse_bytes(page.read_bytes(), page.name))
        except Exception:  # noqa: BLE001 - the corpus holds some pages that are not entries
            continue
    report = navigator_links(map(Quote.of, entries), records_of(read_nexus(nexus)))
    assert store_links(with_corpus) == {(link.entry, link.record) for link in report.links}


def test_links_do_not_depend_on_load_order(with_corpus, nexus, corpus, tmp_path):
    store = OxigraphStore(tmp_path)
    settings = Settings(store=tmp_path)
    loader = Loader(settings, store)
    loader.import_nexus(locate(nexus))
    assert store_links(store) == set()
    loader.load(loader.vocabulary_sources() + loader.entry_sources([corpus]), skip_invalid=True)
    assert store_links(store) == store_links(with_corpus)


def test_a_navigator_document_is_its_nexus_twin(with_corpus):
    twins = rows(
        with_corpus,
        f"""SELECT ?title ?id WHERE {{ GRAPH {LINKS_GRAPH} {{ ?d owl:sameAs ?n }}
          ?d dcterms:title ?title . ?n dcterms:identifier ?id }} ORDER BY ?id""",
    )
    assert twins and all(id_.startswith("doc-") for _, id_ in twins)


def test_crosswalk_counts_are_the_linked_pairs(with_corpus):
    mappings = rows(
        with_corpus,
        """SELECT ?v1 ?v2 ?support ?source WHERE { ?m a owl:Axiom ;
          owl:annotatedSource/skos:notation ?v1 ; owl:annotatedTarget/skos:notation ?v2 ;
          kg:supportCount ?support ; kg:sourceCount ?source }""",
    )
    pairs = rows(
        with_corpus,
        f"""SELECT ?v1 ?v2 (COUNT(*) AS ?n) WHERE {{ GRAPH {LINKS_GRAPH} {{ ?e owl:sameAs ?r }}
          ?e kg:category/skos:notation ?v2 . ?r kg:categoryV1/skos:notation ?v1 }}
          GROUP BY ?v1 ?v2""",
    )
    assert {(v1, v2, n) for v1, v2, n, _ in mappings} == set(pairs)
    per_v1 = {}
    for v1, _, n in pairs:
        per_v1[v1] = per_v1.get(v1, 0) + int(n)
    assert {(v1, int(source)) for v1, _, _, source in mappings} == set(per_v1.items())


def test_remove_takes_no_path(nexus, tmp_path):
    arguments = ["--store", str(tmp_path), "import-nexus", str(nexus), "--remove"]
    result = CliRunner().invoke(cli, arguments)
    assert result.exit_code == 2 and "--remove takes no PATH" in result.stderr


def test_an_import_the_shapes_reject_writes_nothing(nexus, tmp_path, monkeypatch):
    _, store = import_into(tmp_path, nexus, SAMPLE, validate=False)
    generation = store.live_directory
    real = kg_load.nexus_quads

    def with_a_second_name(data, source, iris, profile, schema):
        graphs = real(data, source, iris, profile, schema)
        graph = iris.nexus_graph(CONTROLS)
        record = iris.nexus_mitigation("A0086_Future_of_Life_Institute2024")
        graphs[graph].append(Quad(record, RDFS.label, Literal("Another", language="en"), graph))
        return graphs

    monkeypatch.setattr(kg_load, "nexus_quads", with_a_second_name)
    monkeypatch.setattr(kg_load, "LOADER_VERSION", "kg 0.0.0-other")  # so it is not unchanged
    report, store = import_into(tmp_path, nexus)
    assert not report.committed and not report.validation.conforms
    violations = [r for r in report.validation.results if r.severity is Severity.VIOLATION]
    assert {r.path for r in violations} == {RDFS.label}
    assert store.live_directory == generation


def test_a_new_kg_version_imports_the_same_files_again(nexus, tmp_path, monkeypatch):
    import_into(tmp_path, nexus, validate=False)
    monkeypatch.setattr(kg_load, "LOADER_VERSION", "kg 99.0")
    report, _ = import_into(tmp_path, nexus, validate=False)
    assert report.committed and report.unchanged == 0 and report.graphs >= 6


def test_the_checks_pass_on_imported_data(imported):
    _, store = imported
    assert [c.slug for c in check_store(store).results if c.rows] == []


def test_removing_the_data_removes_what_it_derived(with_corpus, nexus, corpus, tmp_path):
    _, store = import_into(tmp_path, nexus, corpus, validate=False)
    assert store_links(store)
    Loader(Settings(store=tmp_path), store).remove_nexus()
    derived = f"<{BASE}graph/derived/crosswalk/mitigation-v1-v2>"
    assert count(store, f"GRAPH {derived} {{ ?x ?p ?o }}") == 0
    assert count(store, f"GRAPH {LINKS_GRAPH} {{ ?x ?p ?o }}") == 0
    assert count(store, "?x kg:navigatorId ?id") > 100  # the pages stay


def test_a_licence_that_is_no_spdx_id_is_left_out(nexus):
    source = locate(nexus)
    file = replace(
        source.files[0], release=Release("ai-atlas-nexus", "1.2.5", "Apache License 2.0")
    )
    data = read_nexus(nexus)
    source = NexusSource("folder", "x", file.release, (file,))
    graphs = nexus_quads(data, source, Iris(), profile_links(data), NexusSchema({}))
    quads = graphs[Iris().nexus_graph(file.name)]
    assert not [q for q in quads if q.predicate == DCTERMS.license]
    assert [q.object.value for q in quads if q.predicate == PROV.wasDerivedFrom] == [
        "https://pypi.org/project/ai-atlas-nexus/1.2.5/"
    ]


def test_ids_that_would_mint_one_iri_are_refused(nexus):
    data = read_nexus(nexus)
    first = data.documents["doc-EU AI Office2025"]
    documents = data.documents | {"doc-EU-AI-Office2025": replace(first, id="doc-EU-AI-Office2025")}
    clash = replace(data, documents=documents)
    with pytest.raises(
        NexusError, match="doc-EU-AI-Office2025.*same IRI .* as 'doc-EU AI Office2025'"
    ):
        nexus_quads(clash, locate(nexus), Iris(), profile_links(data), NexusSchema({}))
